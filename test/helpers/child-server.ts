import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The real CLI (`node dist/cli/main.js`) as a child process: a free loopback port, the
 * environment it is given (never the TASKHUB_* settings of whoever runs the tests), its
 * output kept, and a registry so that no child outlives the test file.
 */
export const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
}

const children = new Set<ChildProcess>();

/** SIGKILLs every child this file started that is still running (afterAll, and on exit). */
export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}
process.once('exit', killAllChildren);

/** A port nothing listens on now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The parent's environment without any TASKHUB_* setting, plus `env`. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('TASKHUB_')) base[key] = value;
  return { ...base, ...env };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  process: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Settles when the process has exited (never rejects). */
  exited: Promise<Exit>;
  /** The exit so far, or undefined while it runs. */
  readonly exit: Exit | undefined;
}

/** Starts `node dist/cli/main.js ...args` with exactly the given TASKHUB_* settings. */
export function runCli(args: string[], env: Record<string, string>): Child {
  assertBuilt();
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  let exit: Exit | undefined;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => {
      exit = { code, signal };
      children.delete(child);
      resolve(exit);
    });
    child.once('error', (error) => {
      stderr += `spawn failed: ${error.message}\n`;
      exit = { code: null, signal: null };
      children.delete(child);
      resolve(exit);
    });
  });
  return {
    process: child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    get exit() {
      return exit;
    },
  };
}

export interface ChildServer extends Child {
  port: number;
  url: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once GET /ready answers 200; rejects if the child exits first or `timeoutMs` passes. */
export async function waitReady(child: Child, url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exit) throw new Error(`server exited (${JSON.stringify(child.exit)}) before it was ready:\n${child.stderr}${child.stdout}`);
    try {
      const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server not ready after ${timeoutMs} ms:\n${child.stderr}${child.stdout}`);
    await sleep(50);
  }
}

/**
 * `taskhub serve` on a free loopback port with the given settings, once /ready says so.
 * Another process taking the port between our pick and the child's listen is retried.
 */
export async function startChildServer(env: Record<string, string>): Promise<ChildServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = runCli(['serve'], { TASKHUB_HOST: '127.0.0.1', TASKHUB_LOG_LEVEL: 'warn', TASKHUB_LOCAL_WORKER: '0', ...env, TASKHUB_PORT: String(port) });
    try {
      await waitReady(child, url);
      return Object.assign(child, { port, url });
    } catch (error) {
      if (!child.exit) {
        child.process.kill('SIGKILL');
        await child.exited;
      }
      if (attempt < 3 && /EADDRINUSE/.test(child.stderr + child.stdout)) continue;
      throw error;
    }
  }
}

/** Sends `signal` and waits for the exit; SIGKILLs after `timeoutMs` (and says so). */
export async function stopChild(child: Child, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<Exit & { forced: boolean }> {
  if (child.exit) return { ...child.exit, forced: false };
  child.process.kill(signal);
  const timer = sleep(timeoutMs).then(() => 'timeout' as const);
  const result = await Promise.race([child.exited, timer]);
  if (result !== 'timeout') return { ...result, forced: false };
  child.process.kill('SIGKILL');
  return { ...(await child.exited), forced: true };
}

/** True when a TCP connection to the port is refused. */
export function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    socket.connect(port, '127.0.0.1');
  });
}
