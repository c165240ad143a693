import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { SecretBox } from '../common/crypto/secret-box';
import { randomSecret } from '../common/crypto/random-secret';
import { ApiError } from '../common/errors/api-error';
import { Agency } from './agency.entity';
import { Role, User } from './user.entity';
import { AgencyDto, UpdateAgencyDto } from './dto/agency.dto';

/** Encryption context of an agency's secrets: binds each ciphertext to its agency and column. */
export const agencySecretContext = (agencyId: string, column: string) => `agency:${agencyId}:${column}`;

@Injectable()
export class AgenciesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(Agency) private readonly agencies: Repository<Agency>,
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly secretBox: SecretBox,
  ) {}

  /** Creates an agency with its owner, in one transaction. */
  async createAgency(name: string, ownerEmail: string): Promise<{ agency: Agency; owner: User }> {
    await this.assertEmailFree(ownerEmail);
    return this.dataSource.transaction(async (em) => {
      const id = randomUUID();
      const ingestSecretEncrypted = this.secretBox.encrypt(
        randomSecret(),
        agencySecretContext(id, 'ingest_secret'),
      );
      const agency = em.create(Agency, { id, name, ingestSecretEncrypted });
      await em.insert(Agency, agency);
      const owner = em.create(User, { agencyId: agency.id, email: ownerEmail, role: 'agency_owner' });
      await em.insert(User, owner);
      return { agency, owner };
    });
  }

  async addUser(agencyId: string, email: string, role: Role): Promise<User> {
    if (!(await this.agencies.existsBy({ id: agencyId }))) {
      throw ApiError.notFound('agency_not_found', `No agency ${agencyId}`);
    }
    await this.assertEmailFree(email);
    const user = this.users.create({ agencyId, email, role });
    await this.users.insert(user);
    return user;
  }

  async settings(agencyId: string): Promise<AgencyDto> {
    const agency = await this.agencies.findOneByOrFail({ id: agencyId });
    return {
      id: agency.id,
      name: agency.name,
      calling_window: agency.callingWindow,
      created_at: agency.createdAt,
    };
  }

  async updateSettings(agencyId: string, dto: UpdateAgencyDto): Promise<AgencyDto> {
    const changes: Partial<Agency> = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.calling_window !== undefined) changes.callingWindow = dto.calling_window;
    if (Object.keys(changes).length > 0) await this.agencies.update(agencyId, changes);
    return this.settings(agencyId);
  }

  async findUser(userId: string): Promise<User | null> {
    return this.users.findOneBy({ id: userId });
  }

  private async assertEmailFree(email: string): Promise<void> {
    const taken = await this.users
      .createQueryBuilder('u')
      .where('lower(u.email) = lower(:email)', { email })
      .getExists();
    if (taken) throw ApiError.conflict('email_taken', `A user with email ${email} already exists`);
  }
}
