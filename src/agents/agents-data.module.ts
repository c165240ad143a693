import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Agent } from './agent.entity';
import { UltravoxModule } from '../ultravox/ultravox.module';
import { AgentsRepository } from './agents.repository';
import { UltravoxAgentCheck } from './ultravox-agent-check';

/**
 * The agents repository and the check against Ultravox, for the agents API, the dialer (the check at
 * dial) and features that look agents up (campaigns).
 */
@Module({
  imports: [TypeOrmModule.forFeature([Agent]), UltravoxModule],
  providers: [AgentsRepository, UltravoxAgentCheck],
  exports: [AgentsRepository, UltravoxAgentCheck],
})
export class AgentsDataModule {}
