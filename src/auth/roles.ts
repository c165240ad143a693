/** What a dashboard user may do in their agency (CONTRACT §3). Auth owns the vocabulary; users carry it. */
export const ROLES = ['agency_owner', 'agency_admin', 'agency_member'] as const;
export type Role = (typeof ROLES)[number];
