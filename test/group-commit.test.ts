import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/store/group-commit.js';

/**
 * GroupCommit on a list of committed names instead of a database, with a sync step the test
 * finishes by hand: what the stores rely on is the order of commits, syncs and answers.
 */
function setUp() {
  const events: string[] = [];
  const syncs: Array<{ finish: () => void; fail: (error: Error) => void }> = [];
  let syncStarted: () => void = () => {};
  const commits = new GroupCommit<string[]>(
    async (body) => {
      const names: string[] = [];
      await body(names);
      events.push(`commit ${names.join('+')}`);
    },
    {
      sync: () =>
        new Promise<void>((finish, fail) => {
          events.push('sync');
          syncs.push({ finish, fail });
          syncStarted();
        }),
    },
  );
  /** Resolves when the next sync has started. */
  const nextSync = () => new Promise<void>((resolve) => (syncStarted = resolve));
  const write = (name: string) => {
    const written = commits.run((names) => {
      names.push(name);
      return name;
    });
    void written.then(
      () => events.push(`answer ${name}`),
      (error: Error) => events.push(`fail ${name}: ${error.message}`),
    );
    return written;
  };
  /** One turn of the event loop: group commit flushes on setImmediate. */
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  return { commits, events, syncs, write, turn, nextSync };
}

describe('GroupCommit', () => {
  it('answers writes only after the sync that follows their commit, and gathers writes made meanwhile into one batch', async () => {
    const { commits, events, syncs, write, turn, nextSync } = setUp();
    void write('a');
    void write('b');
    await nextSync();
    void write('c');
    const d = write('d');
    await turn();
    expect(events).toEqual(['commit a+b', 'sync']);
    const second = nextSync();
    syncs[0]!.finish();
    await second;
    expect(events).toEqual(['commit a+b', 'sync', 'answer a', 'answer b', 'commit c+d', 'sync']);
    syncs[1]!.finish();
    await d;
    await commits.drain();
    expect(events.slice(6)).toEqual(['answer c', 'answer d']);
  });

  it('fails the writes a failed sync covered and every write after it, without running them again', async () => {
    const { events, syncs, write, turn, nextSync } = setUp();
    void write('a');
    await nextSync();
    void write('b');
    syncs[0]!.fail(new Error('EIO'));
    await turn();
    await expect(write('c')).rejects.toThrow('EIO');
    expect(events).toEqual(['commit a', 'sync', 'fail a: EIO', 'fail b: EIO', 'fail c: EIO']);
  });

  it('hands a group the items that follow each other in a batch together, and retries them one by one if that fails', async () => {
    const calls: string[][] = [];
    const commits = new GroupCommit<string[]>(async (body) => body([]));
    const upper = {
      async apply(_tx: string[], items: string[]) {
        calls.push(items);
        if (items.includes('bad')) throw new Error('bad item');
        return items.map((item) => item.toUpperCase());
      },
    };
    const first = [commits.runGrouped(upper, 'a'), commits.runGrouped(upper, 'b'), commits.run(() => 'plain'), commits.runGrouped(upper, 'c')];
    expect(await Promise.all(first)).toEqual(['A', 'B', 'plain', 'C']);
    expect(calls).toEqual([['a', 'b'], ['c']]);
    calls.length = 0;
    const second = [commits.runGrouped(upper, 'd'), commits.runGrouped(upper, 'bad')];
    const settled = await Promise.allSettled(second);
    expect(settled.map((result) => (result.status === 'fulfilled' ? result.value : String(result.reason)))).toEqual(['D', 'Error: bad item']);
    expect(calls).toEqual([['d', 'bad'], ['d'], ['bad']]);
  });
});
