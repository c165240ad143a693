import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DeepPartial, Repository } from 'typeorm';
import { Page } from '../common/pagination';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { paginate } from '../database/pagination';
import { Agent, UltravoxCheck } from './agent.entity';

/** What a look at the Ultravox agent found, as stored on the agent. */
export interface AgentCheckFields {
  ultravoxCheck: UltravoxCheck;
  ultravoxCheckedAt: Date | null;
  contextVariables: string[] | null;
}

/**
 * Every query on agents. Plain CRUD, so TypeORM's repository serves: none of these is a hot path.
 * Every read is scoped by agencyId, so another agency's agent is simply not found.
 */
@Injectable()
export class AgentsRepository {
  constructor(@InjectRepository(Agent) private readonly agents: Repository<Agent>) {}

  insert(fields: DeepPartial<Agent>): Promise<Agent> {
    return this.agents.save(this.agents.create(fields));
  }

  save(agent: Agent): Promise<Agent> {
    return this.agents.save(agent);
  }

  /** Newest first, keyset-paginated. */
  page(agencyId: string, query: PageQueryDto): Promise<Page<Agent>> {
    return paginate(
      this.agents.createQueryBuilder('agent').where('agent.agency_id = :agencyId', { agencyId }),
      query,
    );
  }

  find(agencyId: string, id: string): Promise<Agent | null> {
    return this.agents.findOneBy({ id, agencyId });
  }

  /**
   * Records a check made at dial, unless the agent's Ultravox id changed meanwhile (a PATCH won: its
   * own check is the one that counts).
   */
  async recordCheck(id: string, ultravoxAgentId: string, fields: AgentCheckFields): Promise<void> {
    await this.agents.update({ id, ultravoxAgentId }, fields);
  }

  /** False when the agency has no such agent. */
  async delete(agencyId: string, id: string): Promise<boolean> {
    const result = await this.agents.delete({ id, agencyId });
    return Boolean(result.affected);
  }
}
