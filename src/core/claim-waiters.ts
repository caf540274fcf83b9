import { fits, type ResourceRequirements, type WorkerCapacity } from '../domain/resources.js';

interface Waiter {
  queues: readonly string[];
  capacity: WorkerCapacity;
  wake: () => void;
}

/**
 * Idle long-polling claimers. Each queued task wakes one waiter that serves its queue and
 * fits it (not all of them: with N idle workers that would be N claims for one task).
 */
export class ClaimWaiters {
  private readonly waiters = new Set<Waiter>();

  get size(): number {
    return this.waiters.size;
  }

  /** Resolves when woken or after `ms`; `signal` ends the wait early. */
  wait(queues: readonly string[], capacity: WorkerCapacity, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const waiter: Waiter = { queues, capacity, wake: done };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
      this.waiters.add(waiter);
    });
  }

  /** A task became claimable: wake the longest-waiting waiter it fits. */
  notify(queue: string, needs: ResourceRequirements): void {
    for (const waiter of this.waiters) {
      if (waiter.queues.includes(queue) && fits(needs, waiter.capacity)) {
        waiter.wake();
        return;
      }
    }
  }

  wakeAll(): void {
    for (const waiter of [...this.waiters]) waiter.wake();
  }
}
