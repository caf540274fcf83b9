/**
 * Group commit: every write that arrives while the event loop is busy, or while the previous
 * batch is being made durable, joins one transaction, so N concurrent writers pay for one
 * commit (one fsync) instead of N. Each caller's promise settles only after that transaction
 * has committed and, where the engine makes a commit durable in a separate step (`sync`:
 * SQLite's WAL fsync, see sqlite/wal-sync.ts), after that step.
 *
 * Not pipelined: committing the next batch while the previous one's fsync ran was measured
 * and dropped. It made transactions smaller, and each costs its BEGIN/COMMIT and rewrites the
 * index pages it touches: batch submissions fell from 53.5k to 47.3k tasks/s (medians of 3
 * alternating runs), single submissions and claim → report round trips did not move, nor did
 * the end-to-end flow of bench/e2e.mjs (5.1k-6.6k against 5.9k-6.8k tasks/s, 3 alternating runs).
 *
 * If a batch fails, its operations are retried one transaction each, so one bad write
 * (say a duplicate id) fails alone and never takes its neighbours down with it.
 */
export type Operation<Tx, T> = (tx: Tx) => T | Promise<T>;
export type RunTransaction<Tx> = (body: (tx: Tx) => Promise<void>) => Promise<void>;

/**
 * Writes of one kind that an engine applies several at a time: items of the same group that
 * follow each other in a transaction are handed to `apply` together (in order), which answers
 * one result per item. PostgreSQL applies a run of status changes with one statement instead
 * of a round trip each.
 */
export interface OperationGroup<Tx, I, T> {
  apply(tx: Tx, items: I[]): Promise<T[]>;
}

export interface GroupCommitOptions {
  /** Makes every transaction committed so far durable; omitted when a commit is durable by itself. */
  sync?: () => Promise<void>;
  /** Bounds one transaction so that a burst cannot hold the writer for long. */
  maxBatch?: number;
}

interface Pending<Tx> {
  /** A write of its own, or `item` of `group`. */
  operation?: Operation<Tx, unknown>;
  group?: OperationGroup<Tx, unknown, unknown>;
  item?: unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** A write that has committed: how to answer its caller once it is durable. */
interface Committed {
  answer: () => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<Tx> {
  private pending: Pending<Tx>[] = [];
  private scheduled = false;
  private flushing = false;
  /**
   * Set by a failed sync, and from then on every write fails with it: after a failed fsync
   * Linux may have dropped the unwritten pages, so a later fsync that succeeds proves nothing
   * about what came before (and SQLite stops replaying the WAL at the first missing frame).
   */
  private syncError: unknown;
  private idleWaiters: Array<() => void> = [];
  private readonly sync: (() => Promise<void>) | undefined;
  private readonly maxBatch: number;

  constructor(
    private readonly runTransaction: RunTransaction<Tx>,
    options: GroupCommitOptions = {},
  ) {
    this.sync = options.sync;
    this.maxBatch = options.maxBatch ?? 2000;
  }

  run<T>(operation: Operation<Tx, T>): Promise<T> {
    return this.enqueue({ operation });
  }

  /** Applies `item` with the other items of `group` next to it in the same transaction. */
  runGrouped<I, T>(group: OperationGroup<Tx, I, T>, item: I): Promise<T> {
    return this.enqueue({ group: group as OperationGroup<Tx, unknown, unknown>, item });
  }

  private enqueue<T>(write: Pick<Pending<Tx>, 'operation' | 'group' | 'item'>): Promise<T> {
    if (this.syncError !== undefined) return Promise.reject(this.syncError);
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ ...write, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves once every write handed in so far has settled. */
  async drain(): Promise<void> {
    if (!this.flushing && !this.scheduled && this.pending.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.flushing = true;
    const batch = this.pending.splice(0, this.maxBatch);
    const committed: Committed[] = [];
    const results: unknown[] = [];
    try {
      await this.runTransaction(async (tx) => {
        for (let start = 0; start < batch.length; ) {
          const { operation, group } = batch[start]!;
          if (operation) {
            results.push(await operation(tx));
            start++;
            continue;
          }
          let end = start + 1;
          while (end < batch.length && batch[end]!.group === group) end++;
          results.push(...(await group!.apply(tx, batch.slice(start, end).map((pending) => pending.item))));
          start = end;
        }
      });
      batch.forEach((item, index) => committed.push({ answer: () => item.resolve(results[index]), reject: item.reject }));
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(error);
      else await this.runOneByOne(batch, committed);
    }
    await this.makeDurable(committed);
    this.flushing = false;
    if (this.pending.length > 0) this.schedule();
    else this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  private async runOneByOne(batch: Pending<Tx>[], committed: Committed[]): Promise<void> {
    for (const item of batch) {
      try {
        let result: unknown;
        await this.runTransaction(async (tx) => {
          result = item.operation ? await item.operation(tx) : (await item.group!.apply(tx, [item.item]))[0];
        });
        committed.push({ answer: () => item.resolve(result), reject: item.reject });
      } catch (error) {
        item.reject(error);
      }
    }
  }

  /** Answers the committed writes once synced; a failed sync fails them, and every write after them. */
  private async makeDurable(committed: Committed[]): Promise<void> {
    if (this.sync && committed.length > 0) {
      try {
        await this.sync();
      } catch (error) {
        this.syncError = error;
        for (const item of [...committed, ...this.pending.splice(0)]) item.reject(error);
        return;
      }
    }
    for (const item of committed) item.answer();
  }
}

