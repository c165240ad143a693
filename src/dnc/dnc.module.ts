import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DncController } from './dnc.controller';
import { DncNumber } from './dnc-number.entity';
import { DncRepository } from './dnc.repository';
import { DncService } from './dnc.service';

/** The do-not-call list: its API, and DncService for whoever places calls (trigger-call, campaigns). */
@Module({
  imports: [TypeOrmModule.forFeature([DncNumber])],
  controllers: [DncController],
  providers: [DncRepository, DncService],
  exports: [DncService],
})
export class DncModule {}
