import type { Role } from './roles';

/**
 * What the guard needs to know about callers, asked of the features that own them (agencies own users,
 * integrations own API keys) through these tokens, so auth depends on no feature:
 * `AuthModule.forRoot([AgenciesModule, IntegrationsModule])` wires the implementations in.
 */
export const USER_LOOKUP = Symbol('USER_LOOKUP');
export const API_KEY_LOOKUP = Symbol('API_KEY_LOOKUP');

export interface KnownUser {
  id: string;
  agencyId: string;
  role: Role;
}

export interface UserLookup {
  /** The dashboard user with this id (a uuid), or null. */
  findUser(userId: string): Promise<KnownUser | null>;
}

export interface ActiveApiKey {
  id: string;
  agencyId: string;
  /** The agency's API access switch: false refuses the key with 403. */
  apiEnabled: boolean;
}

export interface ApiKeyLookup {
  /**
   * The unrevoked key with this hash. Read on every request, never cached: a revoked key or disabled
   * API access must refuse the next request in every API process (CONTRACT §3).
   */
  findActiveKey(keyHash: string): Promise<ActiveApiKey | null>;
}
