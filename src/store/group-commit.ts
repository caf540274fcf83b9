/**
 * Group commit: every write that arrives while the event loop is busy joins one
 * transaction, so N concurrent writers pay for one commit (one fsync) instead of N.
 * Each caller's promise settles only after that transaction has committed.
 *
 * If a batch fails, its operations are retried one transaction each, so one bad write
 * (say a duplicate id) fails alone and never takes its neighbours down with it.
 */
export type Operation<Tx, T> = (tx: Tx) => T | Promise<T>;
export type RunTransaction<Tx> = (body: (tx: Tx) => Promise<void>) => Promise<void>;

interface Pending<Tx> {
  operation: Operation<Tx, unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<Tx> {
  private pending: Pending<Tx>[] = [];
  private scheduled = false;
  private flushing = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly runTransaction: RunTransaction<Tx>,
    /** Bounds one transaction so that a burst cannot hold the writer for long. */
    private readonly maxBatch = 2000,
  ) {}

  run<T>(operation: Operation<Tx, T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ operation, resolve: resolve as (value: unknown) => void, reject });
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
    const results: unknown[] = [];
    try {
      await this.runTransaction(async (tx) => {
        for (const item of batch) results.push(await item.operation(tx));
      });
      batch.forEach((item, index) => item.resolve(results[index]));
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(error);
      else await this.runOneByOne(batch);
    }
    this.flushing = false;
    if (this.pending.length > 0) this.schedule();
    else this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  private async runOneByOne(batch: Pending<Tx>[]): Promise<void> {
    for (const item of batch) {
      try {
        let result: unknown;
        await this.runTransaction(async (tx) => {
          result = await item.operation(tx);
        });
        item.resolve(result);
      } catch (error) {
        item.reject(error);
      }
    }
  }
}
