import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { InProcessEventBus } from '../../core/in-process-event-bus.js';
import type { EventBus, TaskEvent } from '../../core/ports.js';

export const EVENT_CHANNEL = 'taskhub_events';
/** PostgreSQL rejects a NOTIFY payload of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7999;
const RECONNECT_DELAY_MS = 1_000;

interface Envelope {
  /** The publishing instance, so that it can skip its own events coming back. */
  from: string;
  event: TaskEvent;
}

export interface PgEventBusOptions {
  /** Listener failures, oversize events and handler errors: logged by the caller. */
  onError: (error: unknown) => void;
}

/**
 * Fans events out to every taskhub instance on the database. Local subscribers get an event
 * at once, as with InProcessEventBus; other instances get it through NOTIFY, which
 * PostgreSQL delivers to listeners only once it is sent (after the write, since the core
 * publishes after commit). Delivery is at most once: events sent while the listener is
 * reconnecting are lost, so every consumer must also poll (claims re-check the queue).
 */
export class PgEventBus implements EventBus {
  readonly instanceId = randomUUID();
  private readonly local: InProcessEventBus;
  // One connection: notifications leave in publish order.
  private readonly publisher: pg.Pool;
  private listener: pg.Client | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  private constructor(
    private readonly connectionString: string,
    private readonly options: PgEventBusOptions,
  ) {
    this.local = new InProcessEventBus(options.onError);
    // Kept open (idleTimeoutMillis 0): opening a connection on demand put 150-450 ms between
    // a publish and its delivery to other instances under load.
    this.publisher = new pg.Pool({ connectionString, max: 1, idleTimeoutMillis: 0 });
    this.publisher.on('error', options.onError);
  }

  /** Resolves once the listener is listening, so no event published after it is missed. */
  static async connect(connectionString: string, options: PgEventBusOptions): Promise<PgEventBus> {
    const bus = new PgEventBus(connectionString, options);
    try {
      await bus.listen();
      await bus.publisher.query('SELECT 1');
    } catch (error) {
      await bus.close();
      throw error;
    }
    return bus;
  }

  publish(event: TaskEvent): void {
    this.local.publish(event);
    const payload = JSON.stringify({ from: this.instanceId, event } satisfies Envelope);
    const bytes = Buffer.byteLength(payload);
    if (bytes > MAX_PAYLOAD_BYTES) {
      this.options.onError(new Error(`event ${event.type} not sent to other instances: ${bytes} bytes`));
      return;
    }
    this.publisher.query('SELECT pg_notify($1, $2)', [EVENT_CHANNEL, payload]).catch(this.options.onError);
  }

  subscribe(handler: (event: TaskEvent) => void): () => void {
    return this.local.subscribe(handler);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
    await this.publisher.end();
    await this.local.close();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', (message) => this.receive(message.payload));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('event listener connection ended')));
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENT_CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      throw error;
    }
  }

  private receive(payload: string | undefined): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload ?? '') as Envelope;
    } catch (error) {
      this.options.onError(error);
      return;
    }
    if (envelope.from !== this.instanceId) this.local.publish(envelope.event);
  }

  /** The listener's connection failed: drop it and open a new one a second later. */
  private lost(client: pg.Client, error: unknown): void {
    if (this.closed || this.listener !== client) return;
    this.listener = undefined;
    this.options.onError(error);
    client.end().catch(() => {});
    this.reconnectTimer = setTimeout(() => {
      this.listen().catch(() => {
        // listen() has already reported the failure and scheduled the next attempt.
      });
    }, RECONNECT_DELAY_MS);
  }
}
