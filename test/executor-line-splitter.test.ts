import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../src/executors/line-splitter.js';

function split(chunks: Array<string | Buffer>, maxLineBytes?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), maxLineBytes);
  for (const chunk of chunks) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it('splits on newlines across chunk boundaries, drops the \\r of \\r\\n, keeps empty lines and a last unterminated line', () => {
    expect(split(['al', 'pha\r\nbe', 'ta\n\ngam', 'ma'])).toEqual(['alpha', 'beta', '', 'gamma']);
    expect(split(['done\n'])).toEqual(['done']);
    expect(split([])).toEqual([]);
  });

  it('decodes a character split between chunks whole', () => {
    const bytes = Buffer.from('héllo ✓\n');
    expect(split([bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9)])).toEqual(['héllo ✓']);
  });

  it('cuts a line longer than the limit on a character boundary and says how much was dropped', () => {
    expect(split(['abcdefghij\nnext\n'], 4)).toEqual(['abcd [line cut: 6 more bytes]', 'next']);
    // "✓" is 3 bytes: a 4-byte limit keeps "a✓", a 3-byte limit only "a".
    expect(split(['a✓b\n'], 4)).toEqual(['a✓ [line cut: 1 more bytes]']);
    expect(split(['a✓b\n'], 3)).toEqual(['a [line cut: 4 more bytes]']);
  });

  it('cuts at 64 KiB by default, also when the line arrives in many chunks', () => {
    const chunk = 'x'.repeat(10_000);
    const [line, after] = split([...Array(10).fill(chunk), '\nafter']);
    expect(line).toBe(`${'x'.repeat(65_536)} [line cut: ${100_000 - 65_536} more bytes]`);
    expect(after).toBe('after');
  });
});
