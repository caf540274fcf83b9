import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { connectionRefused, killAllChildren, startChildServer, type ChildServer } from './helpers/child-server.js';
import { postJson, rawRequest } from './helpers/raw-http.js';
import { createScratchDatabase, type ScratchDatabase } from './helpers/scratch-database.js';

/**
 * SIGTERM while requests are in flight: a long-polling claim and a burst of submissions.
 * The process must answer the long poll (empty, not cut), finish what it acknowledged, exit 0
 * within a few seconds and stop taking connections; a restart finds every 201 in the database.
 */
const BURST_LOOPS = 8;
const EXIT_WITHIN_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let scratch: ScratchDatabase | undefined;
afterAll(async () => {
  killAllChildren();
  await scratch?.drop();
});

interface Submission {
  payload: { name: string; queue: string; project: string; input: unknown; tags: string[] };
  status?: number;
  answer?: any;
  error?: string;
  sentAt: number;
  answeredAt?: number;
}

describe('graceful shutdown on SIGTERM', () => {
  it('answers the long poll, keeps every acknowledged submission, exits 0 and refuses new connections', async () => {
    scratch = await createScratchDatabase('sqlite', 'taskhub_term');
    let server: ChildServer = await startChildServer(scratch.env);
    const run = randomBytes(4).toString('hex');

    const registered = await postJson(server.url, '/v1/workers', { name: 'poller', queues: ['default'] });
    expect(registered.status).toBe(201);
    const workerId: string = registered.body.worker.id;

    // The long poll: nothing is queued in "default", so it waits (up to 30 s).
    const pollAgent = new Agent({ keepAlive: false });
    const pollSentAt = Date.now();
    let pollAnsweredAt = 0;
    const poll = rawRequest(server.url, {
      method: 'POST',
      path: `/v1/workers/${workerId}/claim`,
      body: JSON.stringify({ limit: 1, waitMs: 30_000 }),
      contentType: 'application/json',
      agent: pollAgent,
      timeoutMs: 40_000,
    }).then(
      (response) => {
        pollAnsweredAt = Date.now();
        return response;
      },
      (error: Error) => {
        pollAnsweredAt = Date.now();
        return error;
      },
    );

    // The burst: submissions to another queue (so that the poll stays empty) until the server is gone.
    const agent = new Agent({ keepAlive: true, maxSockets: BURST_LOOPS });
    const submissions: Submission[] = [];
    let inFlight = 0;
    let stopping = false;
    const burst = async (loop: number) => {
      for (let seq = 0; ; seq++) {
        const submission: Submission = {
          payload: {
            name: `term-${loop}-${seq}`,
            queue: 'burst',
            project: `term-${run}`,
            input: { loop, seq, nonce: randomBytes(8).toString('hex'), text: 'ünïcode ✓' },
            tags: [`loop-${loop}`],
          },
          sentAt: Date.now(),
        };
        submissions.push(submission);
        inFlight++;
        try {
          const answer = await postJson(server.url, '/v1/tasks', submission.payload, agent);
          submission.status = answer.status;
          submission.answer = answer.body;
        } catch (error) {
          submission.error = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        } finally {
          inFlight--;
          submission.answeredAt = Date.now();
        }
        if (submission.status !== 201) return; // refused (closing) or cut: the server is going away
        if (stopping && Date.now() - submission.answeredAt > 2_000) return;
      }
    };
    const loops = Array.from({ length: BURST_LOOPS }, (_, loop) => burst(loop));

    await sleep(700);
    expect(pollAnsweredAt, 'the long poll answered before the shutdown').toBe(0);
    const inFlightAtTerm = inFlight;
    const termAt = Date.now();
    stopping = true;
    server.process.kill('SIGTERM');

    const exit = await Promise.race([server.exited, sleep(EXIT_WITHIN_MS + 5_000).then(() => undefined)]);
    const exitedAfterMs = Date.now() - termAt;
    expect(exit, `no exit ${EXIT_WITHIN_MS + 5_000} ms after SIGTERM`).toBeDefined();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitedAfterMs).toBeLessThan(EXIT_WITHIN_MS);
    expect(server.stdout + server.stderr).not.toMatch(/"level":(50|60)|shutdown failed/);

    // The long poll was answered by the shutdown, as an empty claim, not cut off.
    const pollAnswer = await poll;
    pollAgent.destroy();
    expect(pollAnswer).not.toBeInstanceOf(Error);
    expect(pollAnswer).toMatchObject({ status: 200 });
    expect(JSON.parse((pollAnswer as { text: string }).text)).toEqual({ claims: [] });
    expect(pollAnsweredAt).toBeGreaterThanOrEqual(termAt);
    expect(pollAnsweredAt - pollSentAt).toBeLessThan(30_000);

    // New connections are refused once it is gone.
    expect(await connectionRefused(server.port)).toBe(true);

    await Promise.all(loops);
    agent.destroy();
    const acked = submissions.filter((s) => s.status === 201);
    const others = submissions.filter((s) => s.status !== 201);
    // Requests were in flight at the SIGTERM; whatever came back is a 201, a 503 (closing) or a
    // closed connection, never a server error.
    expect(inFlightAtTerm).toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThan(0);
    for (const other of others) {
      expect(other.status === 503 || other.error !== undefined, `${other.payload.name}: ${other.status} ${JSON.stringify(other.answer)} ${other.error}`).toBe(true);
      if (other.status === 503) expect(other.answer?.error?.message ?? other.answer?.message).toBeTruthy();
    }
    const ackedAfterTerm = acked.filter((s) => s.answeredAt! >= termAt);

    // Restart on the same file: every acknowledged submission is there, as submitted.
    server = await startChildServer(scratch.env);
    const listed = await rawRequest(server.url, { method: 'GET', path: `/v1/tasks?project=term-${run}&limit=1000` });
    const stored = new Map<string, any>(JSON.parse(listed.text).tasks.map((task: any) => [task.id, task]));
    for (const submission of acked) {
      const task = stored.get(submission.answer.id);
      expect(task, `acknowledged ${submission.payload.name} is missing after the restart`).toBeDefined();
      expect(task).toEqual(submission.answer);
      expect(task).toMatchObject({ ...submission.payload, status: 'queued' });
    }
    // Nothing stored that was not submitted; an unanswered one may be there only if it was cut.
    const ackedIds = new Set(acked.map((s) => s.answer.id));
    const cutNames = new Set(others.filter((s) => s.error !== undefined).map((s) => s.payload.name));
    for (const task of stored.values()) {
      if (!ackedIds.has(task.id)) expect(cutNames.has(task.name), `${task.name} is stored but was answered ${task.status}`).toBe(true);
    }
    // The worker's claim was not left holding anything.
    const held = await rawRequest(server.url, { method: 'GET', path: `/v1/tasks?workerId=${workerId}` });
    expect(JSON.parse(held.text).total).toBe(0);

    server.process.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    console.log(
      `SIGTERM: ${inFlightAtTerm} submissions in flight, ${acked.length} acknowledged (${ackedAfterTerm.length} after the signal), ` +
        `${others.filter((s) => s.status === 503).length} answered 503, ${cutNames.size} cut (sent after the signal on a keep-alive connection being closed); exit 0 after ${exitedAfterMs} ms, ` +
        `long poll answered ${pollAnsweredAt - termAt} ms after the signal`,
    );
  }, 60_000);
});
