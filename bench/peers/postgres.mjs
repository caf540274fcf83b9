// Fresh PostgreSQL databases for one phase: created on the server of `adminUrl`, dropped by the
// phase's cleanup (WITH (FORCE): connections a killed worker left behind must not keep it alive).
import { adminQuery } from '../shared.mjs';

/** Creates `taskhub_bench_<label>_<pid>` and returns its connection URL. */
export async function createDatabase({ cleanup, adminUrl, label }) {
  const name = `taskhub_bench_${label}_${process.pid}`;
  // A run killed with SIGKILL could not drop its databases; a later process may get its pid.
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await adminQuery(adminUrl, `CREATE DATABASE "${name}"`);
  cleanup.defer(`database ${name}`, () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
