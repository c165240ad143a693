import request from 'supertest';
import { createAgency, TestAgency } from './support/fixtures';
import { startTestApp, TestApp } from './support/test-app';

describe('DATABASE_STATEMENT_TIMEOUT_MS: a statement stuck behind a lock gives its request up', () => {
  let t: TestApp;
  let agency: TestAgency;

  beforeAll(async () => {
    t = await startTestApp({ DATABASE_STATEMENT_TIMEOUT_MS: '300' });
    agency = await createAgency(t);
  });
  afterAll(() => t.close());

  const listAgents = () => request(t.url).get('/api/v1/agents').set('Authorization', agency.owner.auth);

  it('answers 503 service_unavailable with Retry-After while the table is locked, and 200 once it is not', async () => {
    await listAgents().expect(200);
    // Another session holds the agents table: every read of it waits for the lock.
    await t.db.query('BEGIN');
    await t.db.query('LOCK TABLE agents IN ACCESS EXCLUSIVE MODE');
    try {
      const res = await listAgents().expect(503);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(res.body).toEqual({
        success: false,
        error: {
          code: 'service_unavailable',
          message: expect.stringContaining('did not finish in time'),
          hint: expect.any(String),
        },
      });
    } finally {
      await t.db.query('ROLLBACK');
    }
    await listAgents().expect(200);
  });
});
