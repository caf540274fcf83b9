/**
 * The tasks table narrowed, as SQLite's 0002 (see store/task-columns.ts for why): the fields
 * no query looks at move into `doc`, one JSONB object, and their columns go. The project index
 * leaves out tasks without a project, which `project = $1` never finds anyway.
 */
export const sql = `
ALTER TABLE tasks ADD COLUMN doc JSONB;
UPDATE tasks SET doc = jsonb_build_object(
  'name', name, 'parent', parent, 'tags', tags, 'systemTags', system_tags, 'comment', comment,
  'input', input, 'containers', containers, 'execution', execution, 'hyperparams', hyperparams,
  'configuration', configuration, 'requirements', requirements, 'dataAccess', data_access,
  'hasSecrets', has_secrets = 1, 'callbackUrl', callback_url, 'result', result, 'resultBlobs', result_blobs,
  'intermediateResults', intermediate_results, 'outputLocation', output_location, 'error', error,
  'progress', progress, 'retryCount', retry_count, 'maxRetries', max_retries, 'retryReason', retry_reason,
  'completedAt', completed_at, 'clusterName', cluster_name, 'externalJobName', external_job_name,
  'costEstimate', cost_estimate, 'costActual', cost_actual, 'extra', extra
);
ALTER TABLE tasks ALTER COLUMN doc SET NOT NULL;
ALTER TABLE tasks
  DROP COLUMN name, DROP COLUMN parent, DROP COLUMN tags, DROP COLUMN system_tags, DROP COLUMN comment,
  DROP COLUMN input, DROP COLUMN containers, DROP COLUMN execution, DROP COLUMN hyperparams,
  DROP COLUMN configuration, DROP COLUMN requirements, DROP COLUMN data_access, DROP COLUMN has_secrets,
  DROP COLUMN callback_url, DROP COLUMN result, DROP COLUMN result_blobs, DROP COLUMN intermediate_results,
  DROP COLUMN output_location, DROP COLUMN error, DROP COLUMN progress, DROP COLUMN retry_count,
  DROP COLUMN max_retries, DROP COLUMN retry_reason, DROP COLUMN completed_at, DROP COLUMN cluster_name,
  DROP COLUMN external_job_name, DROP COLUMN cost_estimate, DROP COLUMN cost_actual, DROP COLUMN extra;
DROP INDEX tasks_project;
CREATE INDEX tasks_project ON tasks (project, created_at) WHERE project IS NOT NULL;
`;
