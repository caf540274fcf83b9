export const sql = `
CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  status_reason TEXT,
  status_message TEXT,
  status_changed_at INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  queue TEXT,
  project TEXT,
  parent TEXT,
  owner TEXT,
  tags TEXT NOT NULL,
  system_tags TEXT NOT NULL,
  comment TEXT,
  input TEXT NOT NULL,
  model_id TEXT,
  containers TEXT NOT NULL,
  execution TEXT NOT NULL,
  hyperparams TEXT NOT NULL,
  configuration TEXT NOT NULL,
  requirements TEXT NOT NULL,
  data_access TEXT NOT NULL,
  callback_url TEXT,
  result TEXT NOT NULL,
  result_blobs TEXT NOT NULL,
  intermediate_results TEXT NOT NULL,
  output_location TEXT,
  error TEXT,
  progress REAL,
  retry_count INTEGER NOT NULL,
  max_retries INTEGER NOT NULL,
  retry_reason TEXT,
  created_at INTEGER NOT NULL,
  queued_at INTEGER,
  started_at INTEGER,
  completed_at INTEGER,
  updated_at INTEGER NOT NULL,
  eligible_at INTEGER NOT NULL,
  worker_id TEXT,
  cluster_name TEXT,
  external_job_name TEXT,
  lease_expires_at INTEGER,
  cost_estimate TEXT NOT NULL,
  cost_actual TEXT NOT NULL,
  extra TEXT NOT NULL,
  cpu_millis INTEGER NOT NULL,
  memory_bytes INTEGER NOT NULL,
  gpu_count INTEGER NOT NULL,
  gpu_memory_bytes INTEGER NOT NULL,
  max_execution_seconds INTEGER NOT NULL,
  executor TEXT,
  has_secrets INTEGER NOT NULL,
  secrets TEXT
);
-- The claim query walks this index in order and stops at the first fitting rows.
CREATE INDEX tasks_claim ON tasks (queue, priority DESC, queued_at, id) WHERE status = 'queued';
CREATE INDEX tasks_active ON tasks (worker_id) WHERE status IN ('assigned', 'spawned', 'running');
CREATE INDEX tasks_created ON tasks (created_at, id);
CREATE INDEX tasks_project ON tasks (project, created_at);

CREATE TABLE task_status_changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id TEXT NOT NULL,
  from_status TEXT,
  to_status TEXT NOT NULL,
  at INTEGER NOT NULL,
  reason TEXT,
  message TEXT,
  worker_id TEXT
);
CREATE INDEX task_status_changes_task ON task_status_changes (task_id, id);

CREATE TABLE task_logs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  stream TEXT NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX task_logs_task ON task_logs (task_id, seq);

CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  queues TEXT NOT NULL,
  resources TEXT NOT NULL,
  labels TEXT NOT NULL,
  executors TEXT NOT NULL,
  registered_at INTEGER NOT NULL,
  last_heartbeat_at INTEGER NOT NULL
);

CREATE TABLE queues (
  name TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL
);
INSERT INTO queues (name, created_at) VALUES ('default', 0);
`;
