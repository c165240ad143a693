import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { JwtService } from './jwt.service';
import { Clock } from '../common/clock';
import { RateLimiter } from '../common/rate-limit/rate-limiter';

@Global()
@Module({})
export class AuthModule {
  /**
   * `credentials`: the feature modules that export USER_LOOKUP and API_KEY_LOOKUP (src/auth/credentials.ts).
   * Passed in by the app, so auth imports no feature.
   */
  static forRoot(credentials: Type[]): DynamicModule {
    return {
      module: AuthModule,
      imports: credentials,
      providers: [Clock, JwtService, RateLimiter, { provide: APP_GUARD, useClass: AuthGuard }],
      exports: [JwtService],
    };
  }
}
