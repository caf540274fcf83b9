const NEWLINE = 0x0a;

/**
 * Turns a byte stream into lines: split on "\n" (a "\r" before it is dropped), each line
 * decoded as UTF-8 once whole. A line longer than `maxLineBytes` is cut there, on a character
 * boundary, and says how many bytes were dropped, so one runaway line cannot fill the log.
 * `end()` emits a last line that had no newline.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(
    private readonly emit: (line: string) => void,
    private readonly maxLineBytes = 64 * 1024,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      this.keep(chunk.subarray(start, end));
      this.flush();
      start = end + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  end(): void {
    if (this.kept > 0 || this.dropped > 0) this.flush();
  }

  private keep(bytes: Buffer): void {
    const room = this.maxLineBytes - this.kept;
    if (bytes.length > room) {
      const cut = characterBoundary(bytes, room);
      this.dropped += bytes.length - cut;
      bytes = bytes.subarray(0, cut);
    }
    if (bytes.length === 0) return;
    this.parts.push(bytes);
    this.kept += bytes.length;
  }

  private flush(): void {
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.kept);
    const text = bytes.toString('utf8');
    const line = text.endsWith('\r') && this.dropped === 0 ? text.slice(0, -1) : text;
    this.emit(this.dropped > 0 ? `${line} [line cut: ${this.dropped} more bytes]` : line);
    this.parts = [];
    this.kept = 0;
    this.dropped = 0;
  }
}

/** The largest cut ≤ `limit` that does not split a UTF-8 character (continuation bytes are 10xxxxxx). */
function characterBoundary(bytes: Buffer, limit: number): number {
  let cut = Math.max(0, limit);
  while (cut > 0 && cut < bytes.length && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return cut;
}
