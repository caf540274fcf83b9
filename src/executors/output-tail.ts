/** A failure's error quotes the last 20 lines of output, at most 4 KiB: enough for a Python traceback. */
const TAIL_LINES = 20;
const TAIL_CHARS = 4096;

/** The last lines of a process's output, kept for the error of a failed run. */
export class OutputTail {
  private readonly lines: string[] = [];

  push(line: string): void {
    if (this.lines.push(line) > TAIL_LINES) this.lines.shift();
  }

  text(): string {
    return this.lines.join('\n').slice(-TAIL_CHARS);
  }
}
