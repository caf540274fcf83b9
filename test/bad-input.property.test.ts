import { rm } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, postgresTestDatabase, type Engine } from './helpers/databases.js';
import { percentEncode, rawRequest, type RawRequest, type RawResponse } from './helpers/raw-http.js';
import { call, startTestServer } from './helpers/server.js';

/**
 * Junk against every route the server itself documents in /openapi.json: random and
 * wrongly typed bodies, bad JSON, wrong content types, random path ids and query strings.
 * Every answer must be a 2xx (the junk happened to be valid) or a 4xx whose JSON body
 * names the problem; never a 5xx, and the server stays up. On SQLite, and with fewer runs
 * on PostgreSQL (which refuses some values SQLite keeps), unless TASKHUB_TEST_SKIP_POSTGRES=1.
 */
const RUNS: Record<Engine, number> = {
  sqlite: Number(process.env.TASKHUB_TEST_FUZZ_RUNS ?? 15),
  postgres: Number(process.env.TASKHUB_TEST_FUZZ_RUNS ?? 6),
};

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

// maxClaimWaitMs 0: a valid claim answers at once instead of long-polling the fuzzer.
const sqliteServer = await startTestServer({ maxClaimWaitMs: 0 });
afterAll(async () => {
  await sqliteServer.close();
  await rm(sqliteServer.dir, { recursive: true, force: true });
});

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
}
interface Operation {
  parameters?: Array<{ in: string; name: string; schema: Schema }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface Route {
  method: string;
  path: string;
  operation: Operation;
}

const openapi = (await call(sqliteServer.url, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, Operation>> };
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const routes: Route[] = Object.entries(openapi.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => HTTP_METHODS.includes(method))
    .map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
);

// ---------------------------------------------------------------------------- generators

/** Number literals JSON.stringify cannot write: put in the text in place of a marker string. */
const HUGE = [
  '1e400',
  '-1e400',
  '1e308',
  '-1e308',
  '1e300',
  '123456789012345678901234567890',
  '9223372036854775808',
  '-9223372036854775809',
  '9007199254740993',
  '-0',
  '1e-400',
  '0.1e1',
  '4.9e-324',
];
const huge = fc.integer({ min: 0, max: HUGE.length - 1 }).map((i) => `@@HUGE${i}@@`);
const withHugeNumbers = (json: string) => json.replace(/"@@HUGE(\d+)@@"/g, (_, i: string) => HUGE[Number(i)]!);

const nastyStrings = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  '\uD800',
  'é'.repeat(600),
  'x'.repeat(70_000),
  "'; DROP TABLE tasks; --",
  '../../../etc/passwd',
  '1e400',
  'Infinity',
  'NaN',
  '-1',
  '0x10',
  'true',
  'null',
  '{}',
  '[]',
  '__proto__',
  'constructor',
);

/** A value of any JSON type, or garbage shaped like one. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 2, maxKeys: 4 }),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  huge,
  nastyStrings,
);

/** Quantities: the schema allows any short string, the handlers only these forms. */
const QUANTITY_FIELDS = new Set(['cpu', 'memory', 'gpuMemory']);
const quantity = fc.oneof(
  fc.constantFrom('500m', '2', '1.5', '2Gi', '8GB', '512Mi', '1k', ' 4 ', '0'),
  fc.double({ min: 0, max: 1e6, noNaN: true }),
  fc.integer({ min: 0, max: 2 ** 40 }),
);

/**
 * A value for a JSON schema. junkWeight 0: valid by the schema (so it reaches the handler);
 * otherwise each node is, now and then, replaced by junk of any type.
 */
function shaped(schema: Schema, junkWeight: number): fc.Arbitrary<unknown> {
  const structured = conforming(schema, junkWeight);
  return junkWeight === 0 ? structured : fc.oneof({ weight: 4, arbitrary: structured }, { weight: junkWeight, arbitrary: junk });
}

function conforming(schema: Schema, junkWeight: number): fc.Arbitrary<unknown> {
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((option) => shaped(option, junkWeight)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      if (schema.format === 'uri') return fc.webUrl();
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) });
    case 'integer': {
      const min = schema.minimum ?? -1_000_000;
      const max = schema.maximum ?? 1_000_000;
      const edges = [schema.minimum, schema.maximum].filter((edge): edge is number => edge !== undefined);
      // Without a maximum the schema allows any integer, 1e300 included.
      if (schema.maximum === undefined) edges.push(Number.MAX_SAFE_INTEGER, 1e21, 1e300);
      return fc.oneof(fc.integer({ min, max }), ...(edges.length ? [fc.constantFrom(...edges)] : []));
    }
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(shaped(schema.items ?? {}, junkWeight), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 4, 4)),
      });
    case 'object': {
      if (schema.properties) {
        const record = fc.record(
          Object.fromEntries(
            Object.entries(schema.properties).map(([key, property]) => [
              key,
              QUANTITY_FIELDS.has(key) ? (junkWeight === 0 ? quantity : fc.oneof({ weight: 4, arbitrary: quantity }, { weight: junkWeight, arbitrary: junk })) : shaped(property, junkWeight),
            ]),
          ),
          { requiredKeys: junkWeight === 0 ? (schema.required ?? []) : [] },
        );
        if (junkWeight === 0) return record;
        // Now and then a key the schema does not have.
        return fc.tuple(record, fc.option(fc.tuple(fc.string({ maxLength: 10 }), junk), { freq: 4 })).map(([value, extra]) =>
          extra ? { ...value, [extra[0]]: extra[1] } : value,
        );
      }
      const values = typeof schema.additionalProperties === 'object' ? shaped(schema.additionalProperties, junkWeight) : fc.jsonValue({ maxDepth: 2 });
      return fc.dictionary(fc.string({ maxLength: 8 }), values, { maxKeys: 3 });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const BAD_JSON = [
  '{',
  '}',
  '{"name": ',
  '{"name": "x",}',
  "{'name': 'x'}",
  '[1, 2',
  'nul',
  'undefined',
  'NaN',
  '1e400',
  '"unterminated',
  '{"a":1}{"b":2}',
  '\u0000',
  '\uFEFF{}',
  '{"__proto__": {"polluted": true}}',
  '{"constructor": {"prototype": {"polluted": true}}}',
  '{"tasks": [{"__proto__": {"polluted": true}}]}',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]',
  `{"name": "${'a'.repeat(1000)}"`,
];

const CONTENT_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  'image/png',
  'application/xml',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/jsonx',
  'text/json',
  'application/merge-patch+json',
  '*/*',
  ';;;',
  '',
];

interface BodyCase {
  body?: string | Buffer;
  contentType?: string;
}
const json = (value: unknown): BodyCase => {
  const text = JSON.stringify(value);
  return text === undefined ? { contentType: 'application/json' } : { body: withHugeNumbers(text), contentType: 'application/json' };
};

/** Body generators, one property each; `schema` is the route's declared JSON body (or none). */
function bodyCases(schema: Schema | undefined): Record<string, fc.Arbitrary<BodyCase>> {
  const declared = schema ?? {};
  return {
    'valid by its schema': shaped(declared, 0).map(json),
    'wrong types in declared fields': shaped(declared, 1).map(json),
    'anything at all': fc.anything({ maxDepth: 3, maxKeys: 5 }).map(json),
    'bad JSON text': fc
      .oneof(fc.constantFrom(...BAD_JSON), fc.string({ maxLength: 50 }), shaped(declared, 0).map((v) => (JSON.stringify(v) ?? '').slice(0, -1)))
      .map((body) => ({ body, contentType: 'application/json' })),
    'wrong content type': fc
      .tuple(
        fc.constantFrom(...CONTENT_TYPES),
        fc.oneof(
          fc.string({ maxLength: 50 }),
          shaped(declared, 0).map((v) => JSON.stringify(v) ?? ''),
          fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
        ),
      )
      .map(([contentType, body]) => ({ contentType, body })),
    'no body': fc.constantFrom<BodyCase>({}, { contentType: 'application/json' }, { body: '', contentType: 'application/json' }, { body: '' }),
  };
}

interface Fixture {
  taskIds: string[];
  workerId: string;
  heldTaskId: string;
  blobName: string;
}

let fixtureCount = 0;
/** Fresh things for the path ids to name: a queued task, a worker and a task it holds with a blob. */
async function makeFixture(base: string): Promise<Fixture> {
  const queue = `fuzz-${++fixtureCount}`;
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await call(base, method, path, body);
    if (response.status >= 300) throw new Error(`fixture: ${method} ${path} → ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const queued = await api('POST', '/v1/tasks', { name: 'fixture', queue: `${queue}-idle` });
  const { worker } = await api('POST', '/v1/workers', { name: 'fuzz-worker', queues: [queue] });
  await api('POST', '/v1/tasks', { name: 'held', queue });
  const { claims } = await api('POST', `/v1/workers/${worker.id}/claim`, { limit: 1, waitMs: 0 });
  const held = claims[0].task;
  const put = await fetch(`${base}/v1/tasks/${held.id}/blobs/result.bin`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from('bytes'),
  });
  if (put.status !== 201) throw new Error(`fixture: blob → ${put.status} ${await put.text()}`);
  return { taskIds: [queued.id, held.id], workerId: worker.id, heldTaskId: held.id, blobName: 'result.bin' };
}

function paramValue(route: Route, name: string, fixture: Fixture): fc.Arbitrary<string> {
  const existing =
    name === 'taskId' ? [fixture.heldTaskId] : name === 'name' ? [fixture.blobName] : route.path.startsWith('/v1/workers') ? [fixture.workerId] : fixture.taskIds;
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...existing).map(percentEncode) },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map(percentEncode) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map(percentEncode) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.constantFrom('a'.repeat(257), 'x'.repeat(5000)) },
    // Sent as they are: bad percent escapes and dot segments.
    { weight: 1, arbitrary: fc.constantFrom('%zz', '%', '%E0%A4%A', '%C0%80', '%FF', '%00', '..', '.', '%2F', '%2e%2e', 'a%20b') },
  );
}

function pathFor(route: Route, fixture: Fixture): fc.Arbitrary<string> {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
  return fc
    .tuple(...names.map((name) => paramValue(route, name, fixture)))
    .map((values) => route.path.replace(/\{(\w+)\}/g, (_, name: string) => values[names.indexOf(name)]!));
}

function queryFor(route: Route): fc.Arbitrary<string> {
  const declared = (route.operation.parameters ?? []).filter((p) => p.in === 'query');
  const scalar = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.integer().map(String),
    fc.constantFrom(...HUGE),
    nastyStrings.filter((s) => s.length < 1000),
  );
  const key = declared.length ? fc.oneof(fc.constantFrom(...declared.map((p) => p.name)), fc.string({ maxLength: 10 })) : fc.string({ maxLength: 10 });
  // Valid values for the declared parameters, so that the handlers behind them run too.
  const validQuery = fc
    .record(Object.fromEntries(declared.map((p) => [p.name, conforming(p.schema, 0)])), { requiredKeys: [] })
    .map((values) => Object.entries(values).map(([k, v]) => `${percentEncode(k)}=${percentEncode(String(v))}`));
  return fc
    .oneof(
      fc.constant<string[]>([]),
      validQuery,
      fc.array(fc.tuple(key, scalar).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`), { maxLength: 5 }),
      fc.constantFrom(
        [''],
        ['&&'],
        ['='],
        ['=x'],
        ['limit'],
        ['limit='],
        ['limit=1', 'limit=2'],
        ['limit=1e400'],
        ['limit=-1'],
        ['offset=99999999999999999999999'],
        ['status=nope'],
        ['%zz=1'],
        ['limit=%zz'],
        ['a[b]=c'],
        ['__proto__=1'],
        ['constructor[prototype][polluted]=1'],
        ['limit=0x10'],
        ['limit=1.5'],
        ['after=-5'],
      ),
    )
    .map((parts) => (parts.length ? `?${parts.join('&')}` : ''));
}

// ---------------------------------------------------------------------------- the check

const preview = (body: string | Buffer | undefined) =>
  body === undefined ? '(none)' : JSON.stringify(typeof body === 'string' ? body.slice(0, 200) : `<${body.length} bytes>`);

/**
 * A 2xx, or a 4xx with a JSON body that says what is wrong, in the route's own dialect:
 * `{"error":{"message"}}` natively, `{"error":"..."}` on Mimir's /api routes.
 */
function checkAnswer(request: RawRequest, response: RawResponse): void {
  const what = `${request.method} ${request.path.slice(0, 300)} [${request.contentType ?? 'no content-type'}] body ${preview(request.body)}\n  → ${response.status} ${response.text.slice(0, 500)}`;
  if (response.status < 200 || response.status >= 500) throw new Error(`expected a 2xx or 4xx: ${what}`);
  if (response.status < 400) return;
  let body: { error?: string | { message?: unknown } };
  try {
    body = JSON.parse(response.text);
  } catch {
    throw new Error(`the error answer is not JSON: ${what}`);
  }
  const mimir = request.path.startsWith('/api/') || request.path.startsWith('/ws/');
  const message = mimir ? body?.error : typeof body?.error === 'object' ? body.error.message : undefined;
  if (typeof message !== 'string' || message.trim() === '') {
    throw new Error(`the error answer names no problem (${mimir ? 'error' : 'error.message'}): ${what}`);
  }
}

async function expectHealthy(base: string): Promise<void> {
  const health = await call(base, 'GET', '/health');
  expect(health).toEqual({ status: 200, body: { status: 'healthy' } });
}

describe.each(ENGINES)('junk input against every route in /openapi.json (%s)', (engine) => {
  let server: TestServer;
  const statuses = new Map<string, number[]>();

  beforeAll(async () => {
    server = engine === 'sqlite' ? sqliteServer : await startTestServer({ maxClaimWaitMs: 0, databaseUrl: await postgresTestDatabase() });
  });
  afterAll(async () => {
    if (engine === 'sqlite' || !server) return;
    await server.close();
    await rm(server.dir, { recursive: true, force: true });
  });

  it('the OpenAPI document lists the native API', () => {
    const listed = routes.map((r) => `${r.method} ${r.path}`);
    expect(listed).toEqual(expect.arrayContaining(['POST /v1/tasks', 'POST /v1/tasks/batch', 'PUT /v1/tasks/{id}/blobs/{name}', 'POST /v1/workers/{id}/claim']));
    expect(routes.length).toBeGreaterThanOrEqual(20);
  });

  it.each(routes.map((route) => [`${route.method} ${route.path}`, route] as const))('%s', async (label, route) => {
    const fixture = await makeFixture(server.url);
    const seen: number[] = [];
    statuses.set(label, seen);
    const bodySchema = route.operation.requestBody?.content?.['application/json']?.schema;
    for (const [kind, bodies] of Object.entries(bodyCases(bodySchema))) {
      await fc
        .assert(
          fc.asyncProperty(pathFor(route, fixture), queryFor(route), bodies, async (path, query, body) => {
            const request: RawRequest = { method: route.method, path: path + query, ...body };
            const response = await rawRequest(server.url, request);
            seen.push(response.status);
            checkAnswer(request, response);
          }),
          { numRuns: RUNS[engine], includeErrorInReport: true },
        )
        .catch((error: Error) => {
          throw new Error(`${label}, ${kind}: ${error.message}`);
        });
      await expectHealthy(server.url);
    }
    expect(seen.length).toBeGreaterThan(0);
  });

  it('reached the handlers: valid junk was accepted somewhere, invalid junk refused everywhere', () => {
    const all = [...statuses.values()].flat();
    expect(all.some((status) => status >= 200 && status < 300)).toBe(true);
    expect(all.some((status) => status === 400)).toBe(true);
    expect(statuses.get('POST /v1/tasks')!.some((status) => status === 201)).toBe(true);
  });

  it('refuses what no database keeps as sent, naming the field', async () => {
    const { body: task } = await call(server.url, 'POST', '/v1/tasks', { name: 'ok' });
    const cases: Array<[RawRequest, RegExp]> = [
      [{ method: 'POST', path: '/v1/tasks', contentType: 'application/json', body: '{"name": "a\\u0000b"}' }, /body\/name .*NUL/],
      [{ method: 'POST', path: '/v1/tasks', contentType: 'application/json', body: '{"input": {"deep": [1, "\\u0000"]}}' }, /body\/input\/deep\/1 .*NUL/],
      [{ method: 'POST', path: '/v1/tasks', contentType: 'application/json', body: '{"input": 1e400}' }, /body\/input must be a finite number/],
      [{ method: 'GET', path: '/v1/tasks?limit=1e400' }, /querystring\/limit must be a finite number/],
      [{ method: 'GET', path: '/v1/tasks?offset=1e21' }, /querystring\/offset must be <= 9007199254740991/],
      [{ method: 'GET', path: `/v1/tasks/${task.id}/logs?after=1e400` }, /querystring\/after/],
      [{ method: 'GET', path: '/v1/tasks/a%00b' }, /params\/id .*NUL/],
      [{ method: 'GET', path: '/v1/tasks/%zz' }, /not a valid url/],
      [{ method: 'POST', path: `/v1/tasks/${task.id}/logs`, contentType: 'application/json', body: '{"lines": [{"message": "m", "at": 1e300}]}' }, /at must be <=/],
    ];
    for (const [request, message] of cases) {
      const response = await rawRequest(server.url, request);
      checkAnswer(request, response);
      expect(response.status, `${request.method} ${request.path}`).toBe(400);
      expect(JSON.parse(response.text).error.message).toMatch(message);
    }
  });

  it('takes ids as long as its schemas allow (the router used to stop them at 100 characters)', async () => {
    const id = 'w'.repeat(128);
    const registered = await call(server.url, 'POST', '/v1/workers', { id, name: 'long id', queues: ['long-ids'] });
    expect(registered.status).toBe(201);
    expect(await call(server.url, 'POST', `/v1/workers/${id}/heartbeat`, {})).toEqual({ status: 200, body: { stop: [] } });
    const tooLong = await rawRequest(server.url, { method: 'GET', path: `/v1/tasks/${'t'.repeat(2000)}` });
    checkAnswer({ method: 'GET', path: '/v1/tasks/ttt…' }, tooLong);
    expect(tooLong.status).toBe(414);
  });

  it('reads numeric quantities as numbers, exponents included', async () => {
    const created = await call(server.url, 'POST', '/v1/tasks', { resources: { cpu: 1e-7, memory: 1e12, gpuMemory: 2.5e9 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.resources).toMatchObject({ cpuMillis: 0, memoryBytes: 1e12, gpuMemoryBytes: 2.5e9 });
    const refused = await call(server.url, 'POST', '/v1/tasks', { resources: { memory: -1 } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/resources\.memory/);
  });

  it('stores a blob sent in any content type as its bytes', async () => {
    const { body: task } = await call(server.url, 'POST', '/v1/tasks', { name: 'blobs' });
    for (const [contentType, body] of [
      ['application/json', '{"not": "parsed"}'],
      ['image/png', '\x89PNG'],
      ['text/plain', 'hello'],
      [undefined, ''],
    ] as const) {
      const put = await rawRequest(server.url, { method: 'PUT', path: `/v1/tasks/${task.id}/blobs/b.bin`, contentType, body });
      expect(put.status, `${contentType}: ${put.text}`).toBe(201);
      const got = await fetch(`${server.url}/v1/tasks/${task.id}/blobs/b.bin`);
      expect(await got.text()).toBe(body);
      expect(got.headers.get('content-type')).toContain(contentType ?? 'application/octet-stream');
    }
  });

  it('no prototype was polluted and the server is still up', async () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectHealthy(server.url);
  });
});
