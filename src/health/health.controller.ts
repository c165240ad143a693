import { Controller, Get, HttpStatus, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  HealthCheckService,
  HealthIndicatorResult,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import Redis from 'ioredis';
import { Public } from '../auth/auth.decorator';
import { ApiError } from '../common/errors/api-error';
import { ApiErrors } from '../common/errors/api-error-responses.decorator';
import { REDIS } from '../common/redis/redis.module';
import { HealthDto } from './dto/health.dto';

const PROBE_TIMEOUT_MS = 2_000;

@ApiTags('Operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** 200 when Postgres and Redis answer; 503 naming what is down. */
  @Get()
  @Public()
  @ApiErrors({ 503: ['unhealthy'] })
  async check(): Promise<HealthDto> {
    try {
      const result = await this.health.check([
        () => this.db.pingCheck('postgres', { timeout: PROBE_TIMEOUT_MS }),
        () => this.pingRedis(),
      ]);
      return { status: result.status, details: result.details as HealthDto['details'] };
    } catch (err) {
      const details =
        (err as { response?: { error?: Record<string, { message?: string }> } }).response?.error ?? {};
      const down = Object.keys(details);
      throw new ApiError(
        HttpStatus.SERVICE_UNAVAILABLE,
        'unhealthy',
        `Down: ${down.join(', ') || 'unknown'}`,
        {
          details: down.map((field) => ({ field, message: details[field].message ?? 'down' })),
        },
      );
    }
  }

  private async pingRedis(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('redis');
    try {
      await Promise.race([
        this.redis.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS).unref()),
      ]);
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: (err as Error).message });
    }
  }
}
