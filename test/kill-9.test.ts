import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllChildren, startChildServer, type ChildServer } from './helpers/child-server.js';
import { ENGINES } from './helpers/databases.js';
import { postJson } from './helpers/raw-http.js';
import { createScratchDatabase, type ScratchDatabase } from './helpers/scratch-database.js';

/**
 * The crash test: a real `taskhub serve` takes a stream of concurrent submissions and is
 * SIGKILLed in the middle of it. After a restart on the same files (or database), every
 * submission that was answered 201 is there exactly as submitted, and every batch is there
 * whole or not at all, whether or not its answer made it out.
 */
const SINGLE_LOOPS = 16;
const BATCH_LOOPS = 2;
const BATCH_SIZE = 50;
/** The kill comes after this long and this many answered submissions (or MAX_LOAD_MS). */
const MIN_LOAD_MS = 1_000;
const MIN_ACKED = 200;
const MAX_LOAD_MS = 5_000;

interface Single {
  payload: Record<string, any>;
  /** The 201 answer, if one came. */
  answer?: Record<string, any>;
}
interface Batch {
  project: string;
  tasks: Array<Record<string, any>>;
  /** The ids of the 201 answer, if one came. */
  ids?: string[];
}

function singlePayload(run: string, loop: number, seq: number): Record<string, any> {
  const nonce = randomBytes(6).toString('hex');
  return {
    name: `k9-${loop}-${seq}-${nonce}`,
    type: 'kill9-single',
    project: `k9-single-${run}`,
    priority: ((loop * 7919 + seq) % 2001) - 1000,
    tags: [`loop-${loop}`, `seq-${seq}`],
    comment: `ünïcode ✓ "quoted"\nline two ${nonce}`,
    input: { loop, seq, nonce, floats: [seq / 3, -1e-7, 12345678.875], nested: { ok: seq % 2 === 0, nothing: null, text: 'ß'.repeat(seq % 9) } },
    hyperparams: { General: { lr: { value: String(seq / 1000) } } },
    resources: { cpu: '250m', memory: `${(seq % 4) + 1}Gi` },
    secrets: { token: nonce },
    maxRetries: seq % 5,
  };
}

function batchPayload(run: string, loop: number, seq: number): Batch {
  const project = `k9-batch-${run}-${loop}-${seq}`;
  const tasks = Array.from({ length: BATCH_SIZE }, (_, index) => ({
    name: `${project}-${index}`,
    type: 'kill9-batch',
    project,
    tags: [`batch-${loop}-${seq}`],
    input: { loop, seq, index, blob: randomBytes(24).toString('base64') },
  }));
  return { project, tasks };
}

/** What a submitted field must read back as (the wire view of the payload). */
function expectMatchesPayload(task: Record<string, any>, payload: Record<string, any>): void {
  expect(task).toMatchObject({
    name: payload.name,
    type: payload.type,
    project: payload.project,
    priority: payload.priority,
    tags: payload.tags,
    comment: payload.comment,
    input: payload.input,
    hyperparams: payload.hyperparams,
    maxRetries: payload.maxRetries,
    status: 'queued',
    queue: 'default',
    hasSecrets: true,
    resources: { cpuMillis: 250, memoryBytes: Number.parseInt(payload.resources.memory, 10) * 2 ** 30 },
  });
}

async function getJson(url: string, path: string): Promise<any> {
  const response = await fetch(url + path);
  if (response.status !== 200) throw new Error(`GET ${path} → ${response.status} ${await response.text()}`);
  return response.json();
}

/** Every task of a project, paged. */
async function listProject(url: string, project: string): Promise<Array<Record<string, any>>> {
  const tasks: Array<Record<string, any>> = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await getJson(url, `/v1/tasks?project=${encodeURIComponent(project)}&limit=1000&offset=${offset}`);
    tasks.push(...page.tasks);
    if (page.tasks.length < 1000) return tasks;
  }
}

afterAll(killAllChildren);

describe.each(ENGINES)('kill -9 in the middle of submissions (%s)', (engine) => {
  let scratch: ScratchDatabase | undefined;
  afterAll(async () => {
    killAllChildren();
    await scratch?.drop();
  });

  it('keeps every acknowledged task intact and every batch whole or absent', async () => {
    scratch = await createScratchDatabase(engine, 'taskhub_kill');
    const run = randomBytes(4).toString('hex');
    let server: ChildServer = await startChildServer(scratch.env);

    // One connection per loop, so that every loop has a request in flight at the kill.
    const agent = new Agent({ keepAlive: true, maxSockets: SINGLE_LOOPS + BATCH_LOOPS });
    const singles: Single[] = [];
    const batches: Batch[] = [];
    const refused: string[] = [];
    let killed = false;
    let inFlight = 0;
    let inFlightAtKill = 0;
    let ackedSingles = 0;
    const started = Date.now();
    // The kill lands right after an acknowledgement arrives (once there is enough load behind
    // it): a server that answered before its commit was durable has lost that task.
    const kill = () => {
      if (killed) return;
      killed = true;
      inFlightAtKill = inFlight;
      server.process.kill('SIGKILL');
    };
    const fallback = setTimeout(kill, MAX_LOAD_MS);

    const singleLoop = async (loop: number) => {
      for (let seq = 0; !killed; seq++) {
        const single: Single = { payload: singlePayload(run, loop, seq) };
        singles.push(single);
        inFlight++;
        let answer: { status: number; body: any };
        try {
          answer = await postJson(server.url, '/v1/tasks', single.payload, agent);
        } catch {
          return; // the server died with this request in flight: its fate is unknown
        } finally {
          inFlight--;
        }
        if (answer.status !== 201) refused.push(`single ${answer.status} ${JSON.stringify(answer.body)}`);
        else {
          single.answer = answer.body;
          if (++ackedSingles >= MIN_ACKED && Date.now() - started >= MIN_LOAD_MS) kill();
        }
      }
    };
    const batchLoop = async (loop: number) => {
      for (let seq = 0; !killed; seq++) {
        const batch = batchPayload(run, loop, seq);
        batches.push(batch);
        inFlight++;
        try {
          const answer = await postJson(server.url, '/v1/tasks/batch', { tasks: batch.tasks }, agent);
          if (answer.status === 201) batch.ids = answer.body.ids;
          else refused.push(`batch ${answer.status} ${JSON.stringify(answer.body)}`);
        } catch {
          return;
        } finally {
          inFlight--;
        }
      }
    };

    const loops = [
      ...Array.from({ length: SINGLE_LOOPS }, (_, loop) => singleLoop(loop)),
      ...Array.from({ length: BATCH_LOOPS }, (_, loop) => batchLoop(loop)),
    ];
    const exit = await server.exited;
    clearTimeout(fallback);
    await Promise.all(loops);
    agent.destroy();

    expect(exit.signal).toBe('SIGKILL');
    // Before the kill nothing was refused and nothing went wrong inside the server.
    expect(refused).toEqual([]);
    expect(server.stdout + server.stderr).not.toMatch(/"level":(50|60)/);
    expect(inFlightAtKill).toBeGreaterThan(0);

    const acked = singles.filter((single) => single.answer);
    const unanswered = singles.filter((single) => !single.answer);
    const ackedBatches = batches.filter((batch) => batch.ids);
    expect(acked.length).toBeGreaterThan(20);
    expect(ackedBatches.length).toBeGreaterThan(0);

    // Restart on the same files.
    server = await startChildServer(scratch.env);

    // Every acknowledged single task is there, exactly as answered and as submitted.
    const stored = new Map((await listProject(server.url, `k9-single-${run}`)).map((task) => [task.id, task]));
    for (const single of acked) {
      const task = stored.get(single.answer!.id);
      expect(task, `acknowledged task ${single.answer!.id} (${single.payload.name}) is missing after the crash`).toBeDefined();
      expect(task).toEqual(single.answer);
      expectMatchesPayload(task!, single.payload);
    }
    // Anything else stored was in flight at the kill, and is intact too.
    const unansweredByName = new Map(unanswered.map((single) => [single.payload.name, single.payload]));
    const ackedIds = new Set(acked.map((single) => single.answer!.id));
    for (const task of stored.values()) {
      if (ackedIds.has(task.id)) continue;
      const payload = unansweredByName.get(task.name);
      expect(payload, `stored task ${task.name} was never submitted`).toBeDefined();
      expectMatchesPayload(task, payload!);
    }
    expect(stored.size).toBeLessThanOrEqual(acked.length + unanswered.length);

    // Batches: an acknowledged one whole, with the ids it was answered; any other whole or absent.
    let wholeBatches = 0;
    for (const batch of batches) {
      const tasks = await listProject(server.url, batch.project);
      if (batch.ids) {
        expect(tasks.length, `acknowledged batch ${batch.project}`).toBe(BATCH_SIZE);
        expect(tasks.map((task) => task.id).sort()).toEqual([...batch.ids].sort());
      } else {
        expect([0, BATCH_SIZE], `unacknowledged batch ${batch.project} is partly there`).toContain(tasks.length);
      }
      if (tasks.length === 0) continue;
      wholeBatches++;
      const byName = new Map(tasks.map((task) => [task.name, task]));
      for (const submitted of batch.tasks) {
        expect(byName.get(submitted.name)).toMatchObject({ project: batch.project, input: submitted.input, tags: submitted.tags, status: 'queued' });
      }
    }
    // No stray batch task outside the batches counted above.
    const allBatchTasks = await getJson(server.url, '/v1/tasks?type=kill9-batch&limit=1');
    expect(allBatchTasks.total).toBe(wholeBatches * BATCH_SIZE);

    // The restarted server takes work again.
    const after = await postJson(server.url, '/v1/tasks', singlePayload(run, 99, 0));
    expect(after.status).toBe(201);
    expect((await getJson(server.url, `/v1/tasks/${after.body.id}`)).id).toBe(after.body.id);

    server.process.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    console.log(
      `kill -9 (${engine}): ${acked.length} tasks and ${ackedBatches.length} batches acknowledged, ` +
        `${inFlightAtKill} requests in flight at the kill, ${stored.size - acked.length} unanswered tasks and ` +
        `${wholeBatches - ackedBatches.length} unanswered batches found whole after the restart`,
    );
  }, 60_000);
});
