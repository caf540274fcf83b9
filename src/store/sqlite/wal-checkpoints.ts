import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The thread's whole program: a connection of its own, one PASSIVE checkpoint per message
 * (it never waits for the writer or a reader), `close` to end. Given as source rather than a
 * file so that it runs the same from dist/ and from the TypeScript sources under test.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage(null);
  } catch (error) {
    parentPort.postMessage(String(error && error.message ? error.message : error));
  }
});
`;

/**
 * At most one checkpoint every 100 ms: at 60k submitted tasks a second that is a WAL of about
 * 8 MB between two, and a store that lives shorter (most tests) never starts the thread.
 */
const MIN_INTERVAL_MS = 100;

/**
 * WAL checkpoints (copying committed pages from the WAL into the database file) on a thread
 * of their own. SQLite's automatic checkpoint runs inside the COMMIT that crosses 1000 pages,
 * on the event loop, with two fsyncs: it took 15% of the server's time under batch
 * submissions (52k → 61k tasks/s with checkpoints out of the way). After a checkpoint has
 * caught up, the next write starts the WAL over, as the automatic one would.
 */
export class WalCheckpoints {
  private thread: Worker | undefined;
  private running = false;
  private closed = false;
  private lastStarted = Date.now();

  /** `onFailure` is told once if the thread fails; the caller checkpoints by itself from then on. */
  constructor(
    private readonly databasePath: string,
    private readonly onFailure: (error: Error) => void,
  ) {}

  /** Called after each commit. */
  committed(): void {
    if (this.running || this.closed) return;
    const now = Date.now();
    if (now - this.lastStarted < MIN_INTERVAL_MS) return;
    this.lastStarted = now;
    this.running = true;
    (this.thread ??= this.startThread()).postMessage('checkpoint');
  }

  async close(): Promise<void> {
    this.closed = true;
    const thread = this.thread;
    if (!thread) return;
    const exited = new Promise((resolve) => thread.once('exit', resolve));
    // Unreferenced so that it never keeps a process alive by itself; while closing it must.
    thread.ref();
    thread.postMessage('close');
    await exited;
  }

  private startThread(): Worker {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const thread = new Worker(THREAD_SOURCE, { eval: true, workerData: { driver, path: this.databasePath } });
    thread.unref();
    thread.on('message', (error: string | null) => {
      this.running = false;
      if (error !== null) this.fail(new Error(`WAL checkpoint failed: ${error}`));
    });
    thread.on('error', (error) => this.fail(error));
    return thread;
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    const thread = this.thread;
    this.thread = undefined;
    void thread?.terminate();
    this.onFailure(error);
  }
}
