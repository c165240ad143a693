import { Module } from '@nestjs/common';
import { RetentionRepository } from './retention.repository';
import { RetentionTask } from './retention.task';

/** The worker side's retention job. */
@Module({
  providers: [RetentionRepository, RetentionTask],
  exports: [RetentionTask],
})
export class RetentionModule {}
