import { Agency } from '../agencies/agency.entity';
import { User } from '../agencies/user.entity';
import { Agent } from '../agents/agent.entity';
import { ApiKey } from '../integrations/api-key.entity';

/** Every entity, registered once for the app, the CLI and the migration runner. */
export const entities = [Agency, User, ApiKey, Agent];
