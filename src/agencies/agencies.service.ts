import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { randomSecret } from '../common/crypto/random-secret';
import { ApiError } from '../common/errors/api-error';
import { AgenciesRepository } from './agencies.repository';
import { AgencySecrets } from './agency-secrets';
import { Agency } from './agency.entity';
import { Role, User } from './user.entity';
import { AgencyDto, UpdateAgencyDto } from './dto/agency.dto';

@Injectable()
export class AgenciesService {
  constructor(
    private readonly agencies: AgenciesRepository,
    private readonly secrets: AgencySecrets,
  ) {}

  /** Creates an agency with its owner, in one transaction. */
  async createAgency(name: string, ownerEmail: string): Promise<{ agency: Agency; owner: User }> {
    await this.assertEmailFree(ownerEmail);
    const id = randomUUID();
    const ingestSecretEncrypted = this.secrets.encrypt('ingest_secret', id, randomSecret());
    return this.agencies.createWithOwner({ id, name, ingestSecretEncrypted }, ownerEmail);
  }

  async addUser(agencyId: string, email: string, role: Role): Promise<User> {
    if (!(await this.agencies.exists(agencyId))) {
      throw ApiError.notFound('agency_not_found', `No agency ${agencyId}`);
    }
    await this.assertEmailFree(email);
    return this.agencies.insertUser(agencyId, email, role);
  }

  async settings(agencyId: string): Promise<AgencyDto> {
    const agency = await this.agencies.find(agencyId);
    if (!agency) throw ApiError.notFound('agency_not_found', 'Agency not found');
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
    return this.agencies.findUser(userId);
  }

  private async assertEmailFree(email: string): Promise<void> {
    if (await this.agencies.emailTaken(email))
      throw ApiError.conflict('email_taken', `A user with email ${email} already exists`);
  }
}
