import { Module } from '@nestjs/common';
import { AgentsController } from './agents.controller';
import { AgentsDataModule } from './agents-data.module';
import { AgentsService } from './agents.service';

@Module({
  imports: [AgentsDataModule],
  controllers: [AgentsController],
  providers: [AgentsService],
  exports: [AgentsService],
})
export class AgentsModule {}
