// One simulated worker for phase 4 of bench/core.mjs, run in a worker thread so that the
// four agents do not share one event loop. It waits for "go", then loops until the deadline:
//   single: claim {limit:1}  -> POST /v1/workers/:id/tasks/:taskId/report {status:'completed'}
//   batch:  claim {limit:N}  -> POST /v1/workers/:id/reports with N completed reports
// and posts back what it counted. A round trip that started before the deadline is finished,
// so every claimed task is reported.
import { parentPort, workerData } from 'node:worker_threads';
import { HttpClient } from './http-client.mjs';

const { url, workerId, mode, batchSize } = workerData;
const client = new HttpClient(url);
const claimPath = `/v1/workers/${encodeURIComponent(workerId)}/claim`;
const claimBody = JSON.stringify({ limit: mode === 'batch' ? batchSize : 1 });
const RESULT = { ok: true };

async function run(durationMs) {
  let tasks = 0;
  let roundTrips = 0;
  let drained = false;
  let error = null;
  const latenciesUs = [];
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(durationMs) * 1_000_000n;
  try {
    while (process.hrtime.bigint() < deadline) {
      const t0 = process.hrtime.bigint();
      const claim = await client.request('POST', claimPath, claimBody);
      if (claim.status !== 200) throw new Error(`claim: HTTP ${claim.status}: ${claim.text.slice(0, 300)}`);
      const claims = claim.json.claims;
      if (claims.length === 0) {
        drained = true;
        break;
      }
      if (mode === 'single') {
        for (const { task } of claims) {
          const path = `/v1/workers/${encodeURIComponent(workerId)}/tasks/${encodeURIComponent(task.id)}/report`;
          const report = await client.request('POST', path, { status: 'completed', result: RESULT });
          if (report.status !== 200) throw new Error(`report ${task.id}: HTTP ${report.status}: ${report.text.slice(0, 300)}`);
          if (report.json.status !== 'completed') throw new Error(`report ${task.id}: task is ${report.json.status}`);
        }
      } else {
        const reports = claims.map(({ task }) => ({ taskId: task.id, status: 'completed', result: RESULT }));
        const response = await client.request('POST', `/v1/workers/${encodeURIComponent(workerId)}/reports`, { reports });
        if (response.status !== 200) throw new Error(`reports: HTTP ${response.status}: ${response.text.slice(0, 300)}`);
        const bad = response.json.results.filter((r) => !r.ok || r.status !== 'completed');
        if (bad.length || response.json.results.length !== claims.length) {
          throw new Error(`reports: ${bad.length} of ${claims.length} not completed, e.g. ${JSON.stringify(bad[0])}`);
        }
      }
      tasks += claims.length;
      roundTrips += 1;
      latenciesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  }
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  client.close();
  return { workerId, tasks, roundTrips, drained, error, elapsedMs, latenciesUs };
}

parentPort.on('message', (message) => {
  if (message.type === 'go') {
    run(message.durationMs).then((result) => parentPort.postMessage({ type: 'done', result }));
  }
});
parentPort.postMessage({ type: 'ready' });
