import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { runSql, statement } from '../database/sql';

/*
 * The two reads behind the metrics gauges. They cross into tables other repositories own on purpose:
 * read-only, grouped counts over the whole cluster, run at most once per cache period per process
 * (ClusterGauges), never inside a request.
 */

const CALLS_BY_STATUS = statement(
  'metrics_calls_by_status',
  `SELECT status, count(*)::int AS count FROM calls GROUP BY status`,
);

/** The states the API shows (endpointState in webhooks/endpoints): disabled, failing, healthy. */
const ENDPOINTS_BY_STATE = statement(
  'metrics_endpoints_by_state',
  `SELECT CASE WHEN NOT active THEN 'disabled' WHEN failing_since IS NOT NULL THEN 'failing' ELSE 'healthy' END
            AS state,
          count(*)::int AS count
     FROM webhook_endpoints GROUP BY 1`,
);

@Injectable()
export class MetricsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  callsByStatus(): Promise<Array<{ status: string; count: number }>> {
    return runSql(this.db, CALLS_BY_STATUS, []);
  }

  endpointsByState(): Promise<Array<{ state: string; count: number }>> {
    return runSql(this.db, ENDPOINTS_BY_STATE, []);
  }
}
