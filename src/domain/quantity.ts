/**
 * Parses the resource quantities the four APIs use: Kubernetes forms ("500m", "2", "2Gi",
 * "1.5G"), ML Bridge forms ("8GB", "512MB") and plain numbers. Returns undefined for
 * anything else so callers can name the bad field.
 */
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const DECIMAL: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };
// "8GB" in ML Bridge's docs means GPU memory as vendors quote it (8 GiB cards), so the
// byte-suffixed forms are binary.
const BYTE_SUFFIX: Record<string, number> = { B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 };

const QUANTITY = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*)\s*$/;

/** Bytes from "2Gi", "8GB", "512Mi", "1e9"-free plain numbers (bytes). */
export function parseBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  const match = QUANTITY.exec(value);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] ?? '';
  const factor = unit === '' ? 1 : (BINARY[unit] ?? DECIMAL[unit] ?? BYTE_SUFFIX[unit.toUpperCase()]);
  return factor === undefined ? undefined : Math.round(amount * factor);
}

/** Millicores from "500m", "2", "1.5", or a number of cores. */
export function parseCpuMillis(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  const match = QUANTITY.exec(value);
  if (!match) return undefined;
  const amount = Number(match[1]);
  if (match[2] === '') return Math.round(amount * 1000);
  if (match[2] === 'm') return Math.round(amount);
  return undefined;
}
