/** The reference's table: call_events' columns, foreign key and indexes (src/database/migrations). */
export const REFERENCE_TABLE = 'bench_reference_call_events';

export const REFERENCE_DDL = `
  CREATE TABLE IF NOT EXISTS ${REFERENCE_TABLE} (
    id bigserial PRIMARY KEY,
    agency_id uuid NOT NULL REFERENCES agencies(id) ON DELETE CASCADE,
    call_id uuid,
    ultravox_call_id text,
    source text NOT NULL CHECK (source IN ('ultravox', 'switchboard')),
    event text NOT NULL,
    payload text,
    detail text,
    processed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE UNIQUE INDEX IF NOT EXISTS ${REFERENCE_TABLE}_once ON ${REFERENCE_TABLE} (agency_id, ultravox_call_id, event)
    WHERE source = 'ultravox';
  CREATE INDEX IF NOT EXISTS ${REFERENCE_TABLE}_call_idx ON ${REFERENCE_TABLE} (call_id, id);
  CREATE INDEX IF NOT EXISTS ${REFERENCE_TABLE}_unprocessed_idx ON ${REFERENCE_TABLE} (created_at)
    WHERE processed_at IS NULL AND source = 'ultravox';`;

export const REFERENCE_INSERT = `INSERT INTO ${REFERENCE_TABLE} (agency_id, ultravox_call_id, source, event, payload)
  VALUES ($1, $2, 'ultravox', $3, $4) ON CONFLICT (agency_id, ultravox_call_id, event) WHERE source = 'ultravox' DO NOTHING`;
