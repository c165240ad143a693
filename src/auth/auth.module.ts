import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { User } from '../agencies/user.entity';
import { AuthGuard } from './auth.guard';
import { JwtService } from './jwt.service';
import { RateLimiter } from '../common/rate-limit/rate-limiter';

@Global()
@Module({
  imports: [TypeOrmModule.forFeature([User])],
  providers: [JwtService, RateLimiter, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [JwtService],
})
export class AuthModule {}
