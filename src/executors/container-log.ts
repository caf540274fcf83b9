import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { LogStream } from '../domain/task.js';
import type { ExecutionContext } from './executor.js';
import { LineSplitter } from './line-splitter.js';
import { OutputTail } from './output-tail.js';

/**
 * A container's output, forwarded to the task's log line by line, keeping what the outcome
 * needs: the tail for a failure's error, the last stdout line for a success's `output`.
 */
export class ContainerLog {
  private readonly tail = new OutputTail();
  private lastStdoutLine: string | undefined;

  constructor(private readonly context: ExecutionContext) {}

  /** Forwards `source` line by line; resolves when it has ended or failed (a cut stream only loses lines). */
  forward(source: Readable, stream: Exclude<LogStream, 'system'>): Promise<void> {
    const lines = new LineSplitter((line) => {
      this.context.log(stream, line);
      if (stream === 'stdout') this.lastStdoutLine = line;
      this.tail.push(line);
    });
    source.on('data', (chunk: Buffer) => lines.push(chunk));
    return new Promise((resolve) => {
      const ended = () => {
        source.removeListener('end', ended).removeListener('error', ended);
        lines.end();
        resolve();
      };
      source.once('end', ended).once('error', ended);
    });
  }

  /** The last lines of both streams, for a failure's error. */
  tailText(): string {
    return this.tail.text();
  }

  /** A success's result: the exit code, plus the last stdout line when it is JSON. */
  successResult(): JsonObject {
    const result: JsonObject = { exit_code: 0 };
    const output = parseJson(this.lastStdoutLine);
    if (output !== undefined) result.output = output;
    return result;
  }
}

/**
 * An engine ends a followed log within milliseconds of the container's exit; the 5 s limit only
 * guards against a stream that never ends (the lines read so far are kept).
 */
export async function logEnded(forwarding: Promise<unknown>, limitMs = 5000): Promise<void> {
  await Promise.race([forwarding, delay(limitMs, undefined, { ref: false })]);
}

function parseJson(text: string | undefined): JsonValue | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}
