import { describe, expect, it } from 'vitest';
import { parseBytes, parseCpuMillis } from '../src/domain/quantity.js';

describe('resource quantities', () => {
  it.each([
    ['2Gi', 2 * 2 ** 30],
    ['512Mi', 512 * 2 ** 20],
    ['8GB', 8 * 2 ** 30],
    ['1.5G', 1.5e9],
    ['100', 100],
    [1024, 1024],
  ])('bytes of %s', (input, bytes) => expect(parseBytes(input)).toBe(bytes));

  it.each([
    ['500m', 500],
    ['2', 2000],
    ['0.5', 500],
    [4, 4000],
  ])('millicores of %s', (input, millis) => expect(parseCpuMillis(input)).toBe(millis));

  it.each(['', 'lots', '2Qi', '-1', '1..5Gi'])('refuses %j', (input) => {
    expect(parseBytes(input)).toBeUndefined();
    expect(parseCpuMillis(input)).toBeUndefined();
  });
});
