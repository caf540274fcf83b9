import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { NOW, queued } from './helpers/task-fixtures.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SQLite WAL checkpoints on their own thread', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('copy committed pages into the database file while writes go on, and the data reads back after reopening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskhub-checkpoints-'));
    dirs.push(dir);
    const path = join(dir, 'taskhub.db');
    const store = new SqliteStore(path);
    const emptySize = statSync(path).size;
    const ids: string[] = [];
    // Commits spread over about a second: the checkpoint thread runs at most every 100 ms.
    for (let round = 0; round < 10; round++) {
      const tasks = Array.from({ length: 200 }, () => queued({ name: 'checkpointed' }, NOW));
      await store.insertTasks(tasks);
      ids.push(...tasks.map(({ task }) => task.id));
      await sleep(110);
    }
    // SQLite's own checkpoint is off on this connection: only the thread can have grown the file.
    expect(statSync(path).size).toBeGreaterThan(emptySize + 200 * 1024);
    await store.close();

    const reopened = new SqliteStore(path);
    try {
      const first = await reopened.getTask(ids[0]!);
      const last = await reopened.getTask(ids.at(-1)!);
      expect(first?.id).toBe(ids[0]);
      expect(last?.id).toBe(ids.at(-1));
    } finally {
      await reopened.close();
    }
  });
});
