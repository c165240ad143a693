import { finalBilling } from './billing';
import { BILLING_WAIT_MS, billingGivenUp } from './lifecycle/reconcile-policy';

describe('billing from Ultravox', () => {
  it('stores a billed call with its billed duration in whole seconds', () => {
    expect(finalBilling({ billingStatus: 'BILLING_STATUS_BILLED', billedDuration: '164.4s' })).toEqual({
      status: 'billed',
      billedSeconds: 164,
    });
  });

  it('says why Ultravox did not charge a call, with 0 billed seconds', () => {
    for (const [raw, status] of [
      ['BILLING_STATUS_FREE_CONSOLE', 'free_console'],
      ['BILLING_STATUS_FREE_ZERO_EFFECTIVE_DURATION', 'free_zero_effective_duration'],
      ['BILLING_STATUS_FREE_SYSTEM_ERROR', 'free_system_error'],
      ['BILLING_STATUS_FREE_OTHER', 'free_other'],
      ['BILLING_STATUS_REFUNDED', 'refunded'],
    ]) {
      expect(finalBilling({ billingStatus: raw, billedDuration: '30s' })).toEqual({
        status,
        billedSeconds: 0,
      });
    }
  });

  it('counts free minutes as charged (the plan’s minutes, which the agency resells)', () => {
    expect(finalBilling({ billingStatus: 'BILLING_STATUS_FREE_MINUTES', billedDuration: '42s' })).toEqual({
      status: 'free_minutes',
      billedSeconds: 42,
    });
  });

  it('waits while billing is pending or absent', () => {
    expect(finalBilling({ billingStatus: 'BILLING_STATUS_PENDING', billedDuration: '10s' })).toBeNull();
    expect(finalBilling({})).toBeNull();
    expect(finalBilling({ billingStatus: '  ' })).toBeNull();
  });

  it('reads an unknown status as final but unspecified, and a billed call without a duration as null seconds', () => {
    expect(finalBilling({ billingStatus: 'BILLING_STATUS_SOMETHING_NEW' })).toEqual({
      status: 'unspecified',
      billedSeconds: 0,
    });
    expect(finalBilling({ billingStatus: 'billed', billedDuration: 'soon' })).toEqual({
      status: 'billed',
      billedSeconds: null,
    });
  });

  it('stops asking Ultravox 12 hours after the call ended', () => {
    const ended = new Date('2026-01-01T10:00:00Z');
    expect(billingGivenUp(ended, new Date(ended.getTime() + BILLING_WAIT_MS - 1))).toBe(false);
    expect(billingGivenUp(ended, new Date('2026-01-01T22:00:00Z'))).toBe(true);
  });
});
