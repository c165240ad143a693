import { Module } from '@nestjs/common';
import { USER_LOOKUP } from '../auth/credentials';
import { AgenciesRepository } from './agencies.repository';
import { AgenciesService } from './agencies.service';
import { AgencyController } from './agency.controller';

/** AgenciesRepository and AgencySecrets come from the global AgencyDataModule. */
@Module({
  controllers: [AgencyController],
  providers: [AgenciesService, { provide: USER_LOOKUP, useExisting: AgenciesRepository }],
  exports: [AgenciesService, USER_LOOKUP],
})
export class AgenciesModule {}
