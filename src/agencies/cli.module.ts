import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JwtService } from '../auth/jwt.service';
import { CryptoModule } from '../common/crypto/crypto.module';
import { AppConfig } from '../config/app-config';
import { AppConfigModule } from '../config/config.module';
import { dataSourceOptions } from '../database/data-source-options';
import { AgenciesModule } from './agencies.module';
import { AgencyDataModule } from './agency-data.module';

/** Just what the operator CLI needs: no HTTP, no queues, no Redis. */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CliModule,
      imports: [
        AppConfigModule.forRoot(config),
        TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, { poolSize: 2 })),
        CryptoModule,
        AgencyDataModule,
        AgenciesModule,
      ],
      providers: [JwtService],
      exports: [JwtService, AgenciesModule],
    };
  }
}
