// What a benchmark phase must undo (stop its child processes, drop its databases, delete its
// Redis keys), kept on one stack so that the same undo runs after a success, a failure, a
// phase timeout or Ctrl-C — whichever comes first, and only once.
export class Cleanup {
  #actions = [];

  /** Registers an undo step; steps run newest first (workers stop before their database goes). */
  defer(label, action) {
    this.#actions.push({ label, action });
  }

  /** Runs every registered step; a step that fails is reported and the others still run. */
  async run() {
    while (this.#actions.length > 0) {
      const { label, action } = this.#actions.pop();
      try {
        await action();
      } catch (error) {
        console.error(`  cleanup of ${label} failed: ${error instanceof Error ? error.message : error}`);
      }
    }
  }
}
