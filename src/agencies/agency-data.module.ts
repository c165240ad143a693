import { Global, Module } from '@nestjs/common';
import { AgenciesRepository } from './agencies.repository';
import { AgencySecrets } from './agency-secrets';

/** Agencies' data and secrets, for every role (the API, the workers, the CLI). */
@Global()
@Module({
  providers: [AgenciesRepository, AgencySecrets],
  exports: [AgenciesRepository, AgencySecrets],
})
export class AgencyDataModule {}
