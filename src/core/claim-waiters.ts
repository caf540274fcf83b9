import { fits, type ResourceRequirements, type WorkerCapacity } from '../domain/resources.js';

interface Waiter {
  queues: readonly string[];
  capacity: WorkerCapacity;
  /** True while its claim query runs; false while it sleeps waiting for a wake-up. */
  claiming: boolean;
  woken: boolean;
  wake: () => void;
}

/** One long-polling claimer's place in line, taken before it looks at the store. */
export interface ClaimTicket {
  /** Sleeps until woken (at once if a task arrived since the ticket was taken), `ms` passed or `signal` fired. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  release(): void;
}

/**
 * Idle long-polling claimers. Each queued task wakes one claimer that serves its queue and
 * fits it (not all of them: with N idle workers that would be N claims for one task).
 *
 * A claimer takes its ticket before it queries the store, so a task queued while that
 * query runs is not missed: the ticket is marked woken and the claimer queries again
 * instead of sleeping. A sleeping claimer is preferred, so the wake-up goes to someone idle.
 */
export class ClaimWaiters {
  private readonly waiters = new Set<Waiter>();

  take(queues: readonly string[], capacity: WorkerCapacity): ClaimTicket {
    let resolveSleep: (() => void) | undefined;
    const waiter: Waiter = {
      queues,
      capacity,
      claiming: true,
      woken: false,
      wake: () => {
        waiter.woken = true;
        resolveSleep?.();
      },
    };
    this.waiters.add(waiter);
    return {
      sleep: (ms, signal) => {
        if (waiter.woken || signal?.aborted) return this.rearm(waiter);
        waiter.claiming = false;
        return new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolveSleep = undefined;
            resolve();
          };
          const timer = setTimeout(done, ms);
          signal?.addEventListener('abort', done);
          resolveSleep = done;
        }).then(() => this.rearm(waiter));
      },
      release: () => {
        this.waiters.delete(waiter);
      },
    };
  }

  private async rearm(waiter: Waiter): Promise<void> {
    waiter.woken = false;
    waiter.claiming = true;
  }

  /** A task became claimable: wake the longest-sleeping fitting claimer, else flag a claiming one. */
  notify(queue: string, needs: ResourceRequirements): void {
    let claimingCandidate: Waiter | undefined;
    for (const waiter of this.waiters) {
      if (waiter.woken || !waiter.queues.includes(queue) || !fits(needs, waiter.capacity)) continue;
      if (!waiter.claiming) {
        waiter.wake();
        return;
      }
      claimingCandidate ??= waiter;
    }
    claimingCandidate?.wake();
  }

  wakeAll(): void {
    for (const waiter of this.waiters) waiter.wake();
  }
}
