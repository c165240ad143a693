import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, JWTPayload, jwtVerify, JWTVerifyGetKey, SignJWT } from 'jose';
import { APP_CONFIG, AppConfig } from '../config/app-config';

export class InvalidTokenError extends Error {}

/** Config requires JWT_SECRET when there is no JWKS; an empty key verifies nothing. */
const NO_KEY = new Uint8Array();

/** Verifies dashboard users' tokens (Supabase-compatible HS256, or RS256/ES256 from a JWKS) and issues dev tokens. */
@Injectable()
export class JwtService {
  private readonly secret?: Uint8Array;
  private readonly jwks?: JWTVerifyGetKey;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    if (config.jwt.secret) this.secret = new TextEncoder().encode(config.jwt.secret);
    if (config.jwt.jwksUrl) this.jwks = createRemoteJWKSet(new URL(config.jwt.jwksUrl));
  }

  /** Returns the user id (`sub`) of a valid token; throws InvalidTokenError otherwise. */
  async verify(token: string): Promise<string> {
    try {
      const options = { audience: this.config.jwt.audience, requiredClaims: ['sub', 'exp'] };
      const { payload } = this.jwks
        ? await jwtVerify<{ sub: string }>(token, this.jwks, { ...options, algorithms: ['RS256', 'ES256'] })
        : await jwtVerify<{ sub: string }>(token, this.secret ?? NO_KEY, {
            ...options,
            algorithms: ['HS256'],
          });
      return payload.sub;
    } catch (err) {
      throw new InvalidTokenError((err as Error).message);
    }
  }

  /** A 24 h HS256 token for a user, as the CLI hands out (needs JWT_SECRET). */
  async issue(userId: string, claims: JWTPayload = {}): Promise<string> {
    if (!this.secret)
      throw new Error('JWT_SECRET is not set: tokens can only be issued with an HS256 secret');
    return new SignJWT({ role: 'authenticated', ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setAudience(this.config.jwt.audience)
      .setIssuedAt()
      .setExpirationTime('24h')
      .sign(this.secret);
  }
}
