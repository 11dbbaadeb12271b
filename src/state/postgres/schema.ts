/**
 * The PostgreSQL state schema, as migrations. Tables mirror the SQLite store's (same names and columns, times
 * kept as the same ISO-8601 text so `monitor state migrate` copies rows unchanged), plus the cluster tables:
 * `replicas` (heartbeats) and `leases` (project ownership with a fencing generation). Lease and heartbeat times
 * are the database's `now()`, never a replica's clock.
 */
import type { Migration } from "./migrate.ts";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE releases (
  project TEXT NOT NULL, tag TEXT NOT NULL, version TEXT NOT NULL,
  first_seen TEXT NOT NULL, published_at TEXT,
  PRIMARY KEY (project, tag)
);
CREATE TABLE channel_status (
  project TEXT NOT NULL, tag TEXT NOT NULL, channel TEXT NOT NULL,
  status TEXT NOT NULL, since TEXT NOT NULL, live_at TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (project, tag, channel)
);
CREATE TABLE channel_history (
  id BIGSERIAL PRIMARY KEY, project TEXT NOT NULL, tag TEXT NOT NULL, channel TEXT NOT NULL,
  from_status TEXT, to_status TEXT NOT NULL, at TEXT NOT NULL
);
CREATE INDEX channel_history_key ON channel_history (project, tag, channel, id);
CREATE INDEX channel_history_at ON channel_history (at);
CREATE TABLE latest_reports (
  project TEXT PRIMARY KEY, tag TEXT NOT NULL, status TEXT NOT NULL, checked_at TEXT NOT NULL, report TEXT NOT NULL
);
CREATE TABLE incidents (
  id TEXT PRIMARY KEY, project TEXT NOT NULL, tag TEXT NOT NULL, channel TEXT NOT NULL, code TEXT NOT NULL,
  subject TEXT NOT NULL, state TEXT NOT NULL, resolved_at TEXT, data TEXT NOT NULL
);
CREATE INDEX incidents_project ON incidents (project, state);
CREATE TABLE messages (
  id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, incident_id TEXT NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE outbox (
  id BIGSERIAL PRIMARY KEY, message_id BIGINT NOT NULL REFERENCES messages (id), sink TEXT NOT NULL,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL, sent_at TEXT, finished_at TEXT, last_error TEXT,
  project TEXT, claimed_by TEXT, claimed_generation BIGINT,
  UNIQUE (message_id, sink)
);
CREATE INDEX outbox_pending ON outbox (sink, state, id);
CREATE TABLE http_cache (
  key TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, status INTEGER NOT NULL, headers TEXT NOT NULL,
  body BYTEA NOT NULL, stored_at BIGINT NOT NULL, used_at BIGINT NOT NULL
);
CREATE TABLE sink_memory (
  sink TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (sink, key)
);
CREATE TABLE silences (
  id BIGSERIAL PRIMARY KEY, project TEXT NOT NULL, channel TEXT, until TEXT NOT NULL, reason TEXT, created_at TEXT NOT NULL
);
CREATE TABLE cycles (
  id BIGSERIAL PRIMARY KEY, project TEXT NOT NULL, tag TEXT, trigger TEXT NOT NULL, started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL, duration_ms BIGINT NOT NULL, outcome TEXT NOT NULL, status TEXT, error TEXT
);
CREATE INDEX cycles_project ON cycles (project, id);
CREATE TABLE projects (
  project TEXT PRIMARY KEY, tag TEXT, last_check_at TEXT, last_success_at TEXT, next_check_at TEXT,
  last_duration_ms BIGINT, last_outcome TEXT, last_error TEXT
);
CREATE TABLE replicas (
  id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(), heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE leases (
  project TEXT PRIMARY KEY, owner TEXT, generation BIGINT NOT NULL DEFAULT 0,
  expires_at TIMESTAMPTZ NOT NULL, acquired_at TIMESTAMPTZ, renewed_at TIMESTAMPTZ,
  takeovers BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE lease_events (
  id BIGSERIAL PRIMARY KEY, project TEXT NOT NULL, owner TEXT NOT NULL, previous_owner TEXT,
  generation BIGINT NOT NULL, previous_expired_at TIMESTAMPTZ, at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE manual_checks (
  id BIGSERIAL PRIMARY KEY, project TEXT NOT NULL, requested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  requested_by TEXT NOT NULL, taken_by TEXT, taken_at TIMESTAMPTZ
);
CREATE INDEX manual_checks_open ON manual_checks (project, taken_at);
`,
  },
  {
    version: 2,
    // Verified attestation results, immutable per (kind, digest) (the SQLite store's schema v2).
    sql: `
CREATE TABLE attestations (
  kind TEXT NOT NULL, digest TEXT NOT NULL, value TEXT NOT NULL, stored_at BIGINT NOT NULL, used_at BIGINT NOT NULL,
  PRIMARY KEY (kind, digest)
);
`,
  },
  {
    version: 3,
    // Manual checks handed from a non-owner replica to the owner, with their outcome (the requester waits on it),
    // and the cluster-wide manual-check rate limit counted by requested_at (the database's clock). Outbox claims
    // by project; the instance holding a replica id (one process per replica id, see the daemon lock).
    sql: `
ALTER TABLE manual_checks ADD COLUMN taken_generation BIGINT, ADD COLUMN finished_at TIMESTAMPTZ,
  ADD COLUMN outcome TEXT, ADD COLUMN error TEXT;
DROP INDEX manual_checks_open;
CREATE INDEX manual_checks_open ON manual_checks (project, finished_at, id);
CREATE INDEX manual_checks_window ON manual_checks (project, requested_at);
CREATE INDEX outbox_claim ON outbox (sink, project, id) WHERE state = 'pending';
ALTER TABLE replicas ADD COLUMN instance TEXT;
`,
  },
];
