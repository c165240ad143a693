import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Agent } from './agent.entity';
import { AgentsRepository } from './agents.repository';

/** The agents repository, for the agents API and for features that look agents up (campaigns). */
@Module({
  imports: [TypeOrmModule.forFeature([Agent])],
  providers: [AgentsRepository],
  exports: [AgentsRepository],
})
export class AgentsDataModule {}
