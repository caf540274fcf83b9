// A Node child process of the e2e benchmark: a peer's worker process (with an IPC channel) or a
// taskhub server or agent (without). Its output is kept (the last lines) instead of relayed, so
// a run prints only figures, and a child that dies is reported with what it said last.
import { spawn } from 'node:child_process';

const KEPT_OUTPUT_CHARS = 16_384;
const STOP_GRACE_MS = 10_000;
const running = new Set();

// Last resort when the benchmark itself exits (an error, a second Ctrl-C): no child outlives it.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class Child {
  /**
   * @param {string} label e.g. "bullmq-worker-2"
   * @param {string[]} args arguments of `node`
   * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, ipc?: boolean }} options
   */
  constructor(label, args, { cwd, env = process.env, ipc = false } = {}) {
    this.label = label;
    this.output = '';
    this.stopping = false;
    this.process = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])] });
    running.add(this.process);
    const keep = (chunk) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-KEPT_OUTPUT_CHARS);
    };
    this.process.stdout.on('data', keep);
    this.process.stderr.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code, signal) => {
        running.delete(this.process);
        resolve({ code, signal });
      });
    });
  }

  get alive() {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** The child's last output lines, indented, or '' if it said nothing. */
  lastWords(lines = 10) {
    const tail = this.output.trim().split('\n').slice(-lines).join('\n    ');
    return tail ? `\n    ${tail}` : '';
  }

  /** Why the child is gone, with its last output lines. */
  describeExit() {
    return `${this.label} exited (code ${this.process.exitCode}, signal ${this.process.signalCode})${this.lastWords()}`;
  }

  /** Resolves with the child's first message of this type; rejects if the child exits first. */
  message(type) {
    return new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message?.type !== type) return;
        this.process.off('message', onMessage);
        resolve(message);
      };
      this.process.on('message', onMessage);
      this.exited.then(() => reject(new Error(this.describeExit())));
    });
  }

  /** Asks the child to stop (IPC "stop" message, else SIGTERM); SIGKILL after 10 s. */
  async stop() {
    if (!this.alive) return;
    this.stopping = true;
    if (this.process.connected) this.process.send({ type: 'stop' });
    else this.process.kill('SIGTERM');
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
    });
    const late = await Promise.race([this.exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      console.error(`  ${this.label} did not stop within ${STOP_GRACE_MS / 1000} s: killing it`);
      this.process.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Stops the children side by side: one slow child must not make the others wait their turn. */
export function stopAll(children) {
  return Promise.all(children.map((child) => child.stop()));
}
