import type { EventBus, TaskEvent } from './ports.js';

/** Delivers each event to every subscriber in this process, in publish order. */
export class InProcessEventBus implements EventBus {
  private readonly handlers = new Set<(event: TaskEvent) => void>();

  constructor(private readonly onHandlerError: (error: unknown) => void = () => {}) {}

  publish(event: TaskEvent): void {
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch (error) {
        this.onHandlerError(error);
      }
    }
  }

  subscribe(handler: (event: TaskEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
