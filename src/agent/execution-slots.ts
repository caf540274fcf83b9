/** A place in line for a slot. */
export interface SlotWait {
  /** True once a slot is held; false if the place was given up first (no slot is then held). */
  readonly granted: Promise<boolean>;
  /** Gives the place up; does nothing once the slot is granted. */
  leave(): void;
}

const GRANTED_AT_ONCE: SlotWait = { granted: Promise.resolve(true), leave: () => {} };

/**
 * At most `size` tasks execute at once; the others wait, first come first served. A place is
 * given up with `leave`, not through an AbortSignal: with a prefetch nearly every task waits,
 * and on Node 20 creating a signal costs about 6 µs, adding and removing a listener 3. Without
 * them (and with TaskRun's signal made only on demand) the agent's CPU per builtin task went
 * from 21.4-24.0 to 10.3-15.1 µs (bench/agent-run.mjs, medians of 2 alternating runs).
 */
export class ExecutionSlots {
  private used = 0;
  private readonly waiting: Array<(granted: boolean) => void> = [];

  constructor(private readonly size: number) {}

  wait(): SlotWait {
    if (this.used < this.size) {
      this.used++;
      return GRANTED_AT_ONCE;
    }
    let settle!: (granted: boolean) => void;
    const granted = new Promise<boolean>((resolve) => (settle = resolve));
    this.waiting.push(settle);
    return {
      granted,
      leave: () => {
        const index = this.waiting.indexOf(settle);
        if (index === -1) return;
        this.waiting.splice(index, 1);
        settle(false);
      },
    };
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next(true);
    else this.used--;
  }
}
