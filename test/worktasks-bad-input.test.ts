import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from './helpers/raw-http.js';
import { call, startTestServer } from './helpers/server.js';

/** Every malformed body gets a 400 in Mimir's shape, {"error": "..."}, naming what is wrong. */
let server: Awaited<ReturnType<typeof startTestServer>>;
let taskId: string;
const VALID = { type: 'ml_inference', project_id: 'p' };

beforeAll(async () => {
  server = await startTestServer();
  taskId = (await call(server.url, 'POST', '/api/worktasks', VALID)).body.worktask_id;
});
afterAll(() => server.close());

async function expect400(path: string, body: string | undefined, pattern: RegExp, contentType = 'application/json') {
  const response = await rawRequest(server.url, { method: 'POST', path, body, contentType: body === undefined ? undefined : contentType });
  expect(response.status, response.text).toBe(400);
  const answer = JSON.parse(response.text);
  expect(Object.keys(answer)).toEqual(['error']);
  expect(answer.error).toMatch(pattern);
}

describe('POST /api/worktasks refuses malformed submissions', () => {
  it.each([
    ['bad JSON', '{"type": ', /JSON/],
    ['an empty body', '', /empty/i],
    ['JSON null', 'null', /body must be an object/],
    ['an array for a body', '[]', /body must be an object/],
    ['a string for a body', '"ml_inference"', /body must be an object/],
    ['a missing type', { project_id: 'p' }, /type is required/],
    ['a missing project_id', { type: 'ml_inference' }, /project_id is required/],
    ['an empty project_id', { ...VALID, project_id: '' }, /project_id must not be empty/],
    ['an unknown type', { ...VALID, type: 'ml_magic' }, /type must be one of pipeline_execution, ml_training, ml_inference, digital_twin_update, digital_twin_processing/],
    ['a number for project_id', { ...VALID, project_id: 123 }, /project_id must be a string/],
    ['a string for priority', { ...VALID, priority: '5' }, /priority must be an integer/],
    ['a fractional priority', { ...VALID, priority: 1.5 }, /priority must be an integer/],
    ['a huge priority', { ...VALID, priority: 1e12 }, /priority/],
    ['an array for task_spec', { ...VALID, task_spec: [] }, /task_spec must be an object/],
    ['a number for task_spec.model_id', { ...VALID, task_spec: { model_id: 7 } }, /task_spec\.model_id must be a string/],
    ['a command of numbers', { ...VALID, task_spec: { command: [1, 2] } }, /task_spec\.command\[0\] must be a string/],
    ['a number for a command', { ...VALID, task_spec: { command: 7 } }, /task_spec\.command must be a string or an array of strings/],
    ['env with a number', { ...VALID, task_spec: { env: { A: 1 } } }, /task_spec\.env\.A must be a string/],
    ['a string for resource_requirements', { ...VALID, resource_requirements: '2Gi' }, /resource_requirements must be an object/],
    ['an unreadable memory quantity', { ...VALID, resource_requirements: { memory: 'lots' } }, /resource_requirements\.memory: cannot read "lots"/],
    ['an unreadable cpu quantity', { ...VALID, resource_requirements: { cpu: '2Gi' } }, /resource_requirements\.cpu/],
    ['a boolean for cpu', { ...VALID, resource_requirements: { cpu: true } }, /resource_requirements\.cpu must be a string or a number/],
    ['a string for gpu', { ...VALID, resource_requirements: { gpu: 'yes' } }, /resource_requirements\.gpu must be true or false or an integer/],
    ['an unknown resource', { ...VALID, resource_requirements: { tpu: 1 } }, /resource_requirements\.tpu is not a known field/],
    ['a string for input_datasets', { ...VALID, data_access: { input_datasets: 'dataset-1' } }, /data_access\.input_datasets must be an array of strings or null/],
    ['a number among input_datasets', { ...VALID, data_access: { input_datasets: ['a', 2] } }, /data_access\.input_datasets\[1\] must be a string/],
    ['a misspelt credentials key', { ...VALID, data_access: { storage_credential: 'x' } }, /data_access\.storage_credential is not a known field/],
    ['an unknown field', { ...VALID, priorty: 2 }, /priorty is not a known field/],
    ['a NUL character', { ...VALID, project_id: 'a\u0000b' }, /NUL/],
  ])('%s', async (_name, body, pattern) => {
    await expect400('/api/worktasks', typeof body === 'string' ? body : JSON.stringify(body), pattern);
  });

  it('a body that is not JSON at all', async () => {
    await expect400('/api/worktasks', 'type=ml_inference&project_id=p', /body must be an object/, 'text/plain');
  });

  it('no body at all', async () => {
    await expect400('/api/worktasks', undefined, /body must be an object/);
  });
});

describe('POST /api/worktasks/{id} refuses malformed reports', () => {
  it.each([
    ['bad JSON', '{"status": "completed"', /JSON/],
    ['an array for a body', '[]', /body must be an object/],
    ['a missing worktask_id', { status: 'completed' }, /worktask_id is required/],
    ['a missing status', { worktask_id: '$id' }, /status is required/],
    ['a status workers cannot report', { worktask_id: '$id', status: 'scheduled' }, /status must be one of executing, completed, failed, timeout, cancelled/],
    ['a number for status', { worktask_id: '$id', status: 3 }, /status must be one of/],
    ['an array for metadata', { worktask_id: '$id', status: 'completed', metadata: [1] }, /metadata must be an object or null/],
    ['a number for error_message', { worktask_id: '$id', status: 'failed', error_message: 500 }, /error_message must be a string/],
    ['a number for output_location', { worktask_id: '$id', status: 'completed', output_location: 1 }, /output_location must be a string/],
    ['an unknown field', { worktask_id: '$id', status: 'completed', progress: 0.5 }, /progress is not a known field/],
  ])('%s', async (_name, body, pattern) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body).replace('$id', taskId);
    await expect400(`/api/worktasks/${taskId}`, text, pattern);
    expect((await call(server.url, 'GET', `/api/worktasks/${taskId}`)).body.status).toBe('queued');
  });
});
