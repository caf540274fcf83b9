/**
 * The tasks table narrowed (see store/task-columns.ts for why): fields that SQL filters,
 * orders, claims by or changes with every status change keep their columns; every other
 * field moves into `doc`, one JSON object. The project index leaves out tasks without a
 * project, which `project = ?` never finds anyway. The active-task index says its statuses
 * with OR: with `status IN (…)` SQLite built a temporary b-tree for the list on every insert
 * and update of a task (an eighth of an insert's instructions: 132k → 115k, callgrind). Queries must spell the
 * condition the same way to use the index (SqliteStore's ACTIVE).
 */
export const sql = `
CREATE TABLE tasks_narrow (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  status_reason TEXT,
  status_message TEXT,
  status_changed_at INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  queue TEXT,
  project TEXT,
  owner TEXT,
  model_id TEXT,
  created_at INTEGER NOT NULL,
  queued_at INTEGER,
  started_at INTEGER,
  updated_at INTEGER NOT NULL,
  eligible_at INTEGER NOT NULL,
  worker_id TEXT,
  lease_expires_at INTEGER,
  cpu_millis INTEGER NOT NULL,
  memory_bytes INTEGER NOT NULL,
  gpu_count INTEGER NOT NULL,
  gpu_memory_bytes INTEGER NOT NULL,
  max_execution_seconds INTEGER NOT NULL,
  executor TEXT,
  doc TEXT NOT NULL,
  secrets TEXT
);
INSERT INTO tasks_narrow
SELECT id, type, status, status_reason, status_message, status_changed_at, priority, queue, project, owner, model_id,
  created_at, queued_at, started_at, updated_at, eligible_at, worker_id, lease_expires_at,
  cpu_millis, memory_bytes, gpu_count, gpu_memory_bytes, max_execution_seconds, executor,
  json_object(
    'name', name, 'parent', parent, 'tags', json(tags), 'systemTags', json(system_tags), 'comment', comment,
    'input', json(input), 'containers', json(containers), 'execution', json(execution), 'hyperparams', json(hyperparams),
    'configuration', json(configuration), 'requirements', json(requirements), 'dataAccess', json(data_access),
    'hasSecrets', json(CASE WHEN has_secrets = 1 THEN 'true' ELSE 'false' END), 'callbackUrl', callback_url,
    'result', json(result), 'resultBlobs', json(result_blobs), 'intermediateResults', json(intermediate_results),
    'outputLocation', output_location, 'error', error, 'progress', progress, 'retryCount', retry_count,
    'maxRetries', max_retries, 'retryReason', retry_reason, 'completedAt', completed_at, 'clusterName', cluster_name,
    'externalJobName', external_job_name, 'costEstimate', json(cost_estimate), 'costActual', json(cost_actual),
    'extra', json(extra)
  ),
  secrets
FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_narrow RENAME TO tasks;
-- The claim query walks this index in order and stops at the first fitting rows.
CREATE INDEX tasks_claim ON tasks (queue, priority DESC, queued_at, id) WHERE status = 'queued';
CREATE INDEX tasks_active ON tasks (worker_id) WHERE status = 'assigned' OR status = 'spawned' OR status = 'running';
CREATE INDEX tasks_created ON tasks (created_at, id);
CREATE INDEX tasks_project ON tasks (project, created_at) WHERE project IS NOT NULL;
`;
