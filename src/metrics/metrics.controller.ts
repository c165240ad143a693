import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { MetricsAuth } from '../auth/auth.decorator';
import { Metrics, PROMETHEUS_CONTENT_TYPE } from './metrics';

@ApiTags('Operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  /** Prometheus text: HTTP, queues, deliveries, endpoints, calls, Ultravox requests, process (README "Metrics"). */
  @Get()
  @MetricsAuth()
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  @ApiProduces(PROMETHEUS_CONTENT_TYPE)
  @ApiOkResponse({ description: 'Prometheus text exposition format', schema: { type: 'string' } })
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
