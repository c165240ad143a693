import { toE164 } from './phone';

describe('toE164', () => {
  it.each([
    ['+15551234567', '+15551234567'],
    ['+1 (555) 123-4567', '+15551234567'],
    ['+44 20 7946 0958', '+442079460958'],
    [' +4915112345678 ', '+4915112345678'],
  ])('accepts %s as %s', (input, expected) => expect(toE164(input)).toBe(expected));

  it.each(['5551234567', '+1555', '+1555123456789012', 'call me', '+1 555 CALL NOW', ''])(
    'rejects %s',
    (input) => expect(toE164(input)).toBeNull(),
  );
});
