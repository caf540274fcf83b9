// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per file.
// Used by `node bench/core.mjs --profile`; also runnable alone:
//   node bench/profile-summary.mjs file.cpuprofile [top]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function shortUrl(url) {
  if (!url) return '';
  let file = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (file.startsWith(ROOT + path.sep)) file = path.relative(ROOT, file);
  return file.replace(/^node_modules\//, 'nm/');
}

/** Returns {totalMs, functions:[{name, where, selfMs, pct}], files:[{file, selfMs, pct}]}. */
export function summarizeProfile(file, top = 15) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
  }
  const functions = new Map();
  const files = new Map();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    totalUs += us;
    const name = callFrame.functionName || '(anonymous)';
    const where = callFrame.url ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { name, where, selfUs: 0 };
    entry.selfUs += us;
    functions.set(key, entry);
    const fileKey = callFrame.url ? shortUrl(callFrame.url) : name.startsWith('(') ? name : '(native)';
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
  }
  const pct = (us) => (100 * us) / totalUs;
  return {
    totalMs: totalUs / 1000,
    functions: [...functions.values()]
      .sort((a, b) => b.selfUs - a.selfUs)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.selfUs / 1000, pct: pct(f.selfUs) })),
    files: [...files.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fileName, us]) => ({ file: fileName, selfMs: us / 1000, pct: pct(us) })),
  };
}

export function printProfileSummary(file, top = 15) {
  const summary = summarizeProfile(file, top);
  console.log(`\nCPU profile ${path.relative(process.cwd(), file)} (${summary.totalMs.toFixed(0)} ms sampled)`);
  console.log('  top functions by self time:');
  for (const f of summary.functions) {
    console.log(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.name}  ${f.where}`);
  }
  console.log('  top files by self time:');
  for (const f of summary.files) console.log(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.file}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!process.argv[2]) {
    console.error('usage: node bench/profile-summary.mjs file.cpuprofile [top]');
    process.exit(2);
  }
  printProfileSummary(process.argv[2], Number(process.argv[3] ?? 25));
}
