import type { Agency } from './agency.entity';

/**
 * The agency's live-call cap: MAX_CONCURRENT_CALLS_PER_AGENCY, lowered to the Ultravox account's
 * `allowedConcurrentCalls` when Ultravox reported one (read from the agency row the dialer loads anyway).
 */
export function liveCallCap(
  agency: Pick<Agency, 'ultravoxAllowedConcurrentCalls'>,
  maxPerAgency: number,
): number {
  const allowed = agency.ultravoxAllowedConcurrentCalls;
  return allowed === null || allowed === undefined ? maxPerAgency : Math.min(allowed, maxPerAgency);
}
