import type { Role } from './roles';

/** Who is calling, as established by the global AuthGuard. Every service call is scoped by `agencyId`. */
export type AuthContext =
  | { kind: 'user'; agencyId: string; userId: string; role: Role }
  | { kind: 'api_key'; agencyId: string; apiKeyId: string };

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthContext;
  }
}
