import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { AgenciesService } from '../../src/agencies/agencies.service';
import { Role } from '../../src/agencies/user.entity';
import { JwtService } from '../../src/auth/jwt.service';
import { TestApp } from './test-app';

export interface TestUser {
  userId: string;
  agencyId: string;
  token: string;
  /** `Authorization` header value. */
  auth: string;
}

export interface TestAgency {
  agencyId: string;
  owner: TestUser;
  admin: TestUser;
  member: TestUser;
}

const email = (label: string) => `${label}-${randomBytes(4).toString('hex')}@agency.test`;

/** An agency with an owner, an admin and a member, each holding a dashboard token. */
export async function createAgency(t: TestApp, name = 'Agency'): Promise<TestAgency> {
  const agencies = t.app.get(AgenciesService);
  const jwt = t.app.get(JwtService);
  const { agency, owner } = await agencies.createAgency(name, email('owner'));
  const user = async (userId: string): Promise<TestUser> => {
    const token = await jwt.issue(userId);
    return { userId, agencyId: agency.id, token, auth: `Bearer ${token}` };
  };
  const add = async (role: Role) => user((await agencies.addUser(agency.id, email(role), role)).id);
  return {
    agencyId: agency.id,
    owner: await user(owner.id),
    admin: await add('agency_admin'),
    member: await add('agency_member'),
  };
}

/** Generates the agency's API key through the API, as an owner would. */
export async function generateApiKey(t: TestApp, owner: TestUser): Promise<string> {
  const res = await request(t.url)
    .post('/api/v1/integrations/api/key')
    .set('Authorization', owner.auth)
    .expect(200);
  return res.body.api_key as string;
}

/** A key of Ultravox's shape that the simulator accepts. */
export function ultravoxKey(prefix = ''): string {
  const alnum = (n: number) =>
    Array.from(
      randomBytes(n),
      (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62],
    ).join('');
  const head = (prefix + alnum(8)).slice(0, 8);
  return `${head}.${alnum(32)}`;
}
