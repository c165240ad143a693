import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { UserLookup } from '../auth/credentials';
import { runSql, statement, Tx } from '../database/sql';
import { Agency } from './agency.entity';
import { Role, User } from './user.entity';

/** The agency's encrypted secrets as stored: what AgencySecrets decrypts. */
export interface AgencySecretsRow {
  id: string;
  ingest_secret_encrypted: string;
  ultravox_signing_secret_encrypted: string | null;
  ultravox_api_key_encrypted: string | null;
}

/** Read on each ingest request whose agency is not cached: a named statement, planned once per connection. */
const SELECT_AGENCY_SECRETS = statement(
  'agency_secrets',
  `SELECT id, ingest_secret_encrypted, ultravox_signing_secret_encrypted, ultravox_api_key_encrypted
     FROM agencies WHERE id = $1`,
);

/** Every query on agencies and users. */
@Injectable()
export class AgenciesRepository implements UserLookup {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The agency and its owner, in one transaction. */
  async createWithOwner(
    agency: Pick<Agency, 'id' | 'name' | 'ingestSecretEncrypted'>,
    ownerEmail: string,
  ): Promise<{ agency: Agency; owner: User }> {
    return this.dataSource.transaction(async (em) => {
      const created = em.create(Agency, agency);
      await em.insert(Agency, created);
      const owner = em.create(User, { agencyId: created.id, email: ownerEmail, role: 'agency_owner' });
      await em.insert(User, owner);
      return { agency: created, owner };
    });
  }

  async exists(agencyId: string): Promise<boolean> {
    return this.dataSource.getRepository(Agency).existsBy({ id: agencyId });
  }

  async find(agencyId: string): Promise<Agency | null> {
    return this.dataSource.getRepository(Agency).findOneBy({ id: agencyId });
  }

  async update(agencyId: string, changes: Partial<Agency>): Promise<void> {
    await this.dataSource.getRepository(Agency).update(agencyId, changes);
  }

  /** The same, in the caller's transaction: the change commits with the others or not at all. */
  async updateIn(tx: Tx, agencyId: string, changes: Partial<Agency>): Promise<void> {
    await tx.getRepository(Agency).update(agencyId, changes);
  }

  /** Holds the agency's row until `tx` ends: serialises changes that must not interleave. */
  async lock(tx: Tx, agencyId: string): Promise<void> {
    await tx
      .getRepository(Agency)
      .createQueryBuilder('a')
      .setLock('pessimistic_write')
      .where({ id: agencyId })
      .getOne();
  }

  async secrets(agencyId: string): Promise<AgencySecretsRow | null> {
    const [row] = await runSql<AgencySecretsRow>(this.dataSource, SELECT_AGENCY_SECRETS, [agencyId]);
    return row ?? null;
  }

  async insertUser(agencyId: string, email: string, role: Role): Promise<User> {
    const users = this.dataSource.getRepository(User);
    const user = users.create({ agencyId, email, role });
    await users.insert(user);
    return user;
  }

  async findUser(userId: string): Promise<User | null> {
    return this.dataSource.getRepository(User).findOneBy({ id: userId });
  }

  /** Emails are unique whatever their case. */
  async emailTaken(email: string): Promise<boolean> {
    return this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .where('lower(u.email) = lower(:email)', { email })
      .getExists();
  }
}
