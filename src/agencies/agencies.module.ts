import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgenciesService } from './agencies.service';
import { AgencyController } from './agency.controller';
import { Agency } from './agency.entity';
import { User } from './user.entity';

@Module({
  imports: [TypeOrmModule.forFeature([Agency, User])],
  controllers: [AgencyController],
  providers: [AgenciesService],
  exports: [AgenciesService, TypeOrmModule],
})
export class AgenciesModule {}
