/**
 * The SQLite schema (store/sqlite/migrations/0001-initial.ts) in PostgreSQL types, column for
 * column, so both engines hand the shared row mappers the same rows. Where the types differ
 * it is to keep SQLite's behaviour:
 * - ids and queue names are compared bytewise (COLLATE "C"), as SQLite's BINARY does, so
 *   ORDER BY id / name gives the same order whatever the database's locale;
 * - resource quantities and progress are double precision: SQLite keeps a fractional value
 *   given to an INTEGER column (cpu 0.5) and a REAL is 8 bytes, where bigint would reject
 *   the first and `real` would round the second;
 * - NULL queued_at sorts first, as in SQLite, in the claim index and the claim query.
 */
export const sql = `
CREATE TABLE tasks (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  status_reason TEXT,
  status_message TEXT,
  status_changed_at BIGINT NOT NULL,
  priority BIGINT NOT NULL,
  queue TEXT COLLATE "C",
  project TEXT,
  parent TEXT,
  owner TEXT,
  tags JSONB NOT NULL,
  system_tags JSONB NOT NULL,
  comment TEXT,
  input JSONB NOT NULL,
  model_id TEXT,
  containers JSONB NOT NULL,
  execution JSONB NOT NULL,
  hyperparams JSONB NOT NULL,
  configuration JSONB NOT NULL,
  requirements JSONB NOT NULL,
  data_access JSONB NOT NULL,
  callback_url TEXT,
  result JSONB NOT NULL,
  result_blobs JSONB NOT NULL,
  intermediate_results JSONB NOT NULL,
  output_location TEXT,
  error TEXT,
  progress DOUBLE PRECISION,
  retry_count BIGINT NOT NULL,
  max_retries BIGINT NOT NULL,
  retry_reason TEXT,
  created_at BIGINT NOT NULL,
  queued_at BIGINT,
  started_at BIGINT,
  completed_at BIGINT,
  updated_at BIGINT NOT NULL,
  eligible_at BIGINT NOT NULL,
  worker_id TEXT,
  cluster_name TEXT,
  external_job_name TEXT,
  lease_expires_at BIGINT,
  cost_estimate JSONB NOT NULL,
  cost_actual JSONB NOT NULL,
  extra JSONB NOT NULL,
  cpu_millis DOUBLE PRECISION NOT NULL,
  memory_bytes DOUBLE PRECISION NOT NULL,
  gpu_count DOUBLE PRECISION NOT NULL,
  gpu_memory_bytes DOUBLE PRECISION NOT NULL,
  max_execution_seconds DOUBLE PRECISION NOT NULL,
  executor TEXT,
  has_secrets INTEGER NOT NULL,
  secrets JSONB
);
-- The claim query walks this index in order and stops at the first fitting rows.
CREATE INDEX tasks_claim ON tasks (queue, priority DESC, queued_at NULLS FIRST, id) WHERE status = 'queued';
CREATE INDEX tasks_active ON tasks (worker_id) WHERE status IN ('assigned', 'spawned', 'running');
CREATE INDEX tasks_created ON tasks (created_at, id);
CREATE INDEX tasks_project ON tasks (project, created_at);

CREATE TABLE task_status_changes (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id TEXT NOT NULL,
  from_status TEXT,
  to_status TEXT NOT NULL,
  at BIGINT NOT NULL,
  reason TEXT,
  message TEXT,
  worker_id TEXT
);
CREATE INDEX task_status_changes_task ON task_status_changes (task_id, id);

CREATE TABLE task_logs (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  stream TEXT NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX task_logs_task ON task_logs (task_id, seq);

CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  queues JSONB NOT NULL,
  resources JSONB NOT NULL,
  labels JSONB NOT NULL,
  executors JSONB NOT NULL,
  registered_at BIGINT NOT NULL,
  last_heartbeat_at BIGINT NOT NULL
);

CREATE TABLE queues (
  name TEXT COLLATE "C" PRIMARY KEY,
  created_at BIGINT NOT NULL
);
INSERT INTO queues (name, created_at) VALUES ('default', 0);
`;
