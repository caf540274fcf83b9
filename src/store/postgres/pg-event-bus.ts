import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { InProcessEventBus } from '../../core/in-process-event-bus.js';
import type { EventBus, TaskEvent } from '../../core/ports.js';

export const EVENT_CHANNEL = 'taskhub_events';
/** PostgreSQL rejects a NOTIFY payload of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7999;
const RECONNECT_DELAY_MS = 1_000;

/** One notification: the events one instance published in one event-loop turn, in order. */
interface Envelope {
  /** The publishing instance, so that it can skip its own events coming back. */
  from: string;
  events: TaskEvent[];
  /** What instances of earlier releases send instead of `events` (one event a notification). */
  event?: TaskEvent;
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
 *
 * The events of one event-loop turn leave together: packed into notifications of up to 8000
 * bytes, sent by one statement. A NOTIFY query per event (five per task end to end) held the
 * publisher's connection for a round trip each, and writing them took a quarter of the
 * server's time in bench/e2e.mjs on PostgreSQL.
 */
export class PgEventBus implements EventBus {
  readonly instanceId = randomUUID();
  private readonly local: InProcessEventBus;
  // One connection: notifications leave in publish order.
  private readonly publisher: pg.Pool;
  private listener: pg.Client | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Events published this turn and not yet sent, as JSON. */
  private unsent: string[] = [];
  private sending: Promise<void> = Promise.resolve();
  /** A notification is this, the events' JSON joined by commas, and `]}`. */
  private readonly envelopeHead = `{"from":${JSON.stringify(this.instanceId)},"events":[`;
  private readonly envelopeBytes = Buffer.byteLength(this.envelopeHead) + 2;

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
    const json = JSON.stringify(event);
    const bytes = Buffer.byteLength(json) + this.envelopeBytes;
    if (bytes > MAX_PAYLOAD_BYTES) {
      this.options.onError(new Error(`event ${event.type} not sent to other instances: ${bytes} bytes`));
      return;
    }
    if (this.unsent.push(json) === 1) setImmediate(this.sendUnsent);
  }

  /**
   * One statement sends every payload: unnest yields them in array order, and PostgreSQL
   * delivers the notifications of one transaction in the order they were made (identical
   * payloads of one transaction only once: those could only be repeated wake-ups, which say
   * nothing more). Each statement waits for the one before, so order holds across turns too.
   */
  private readonly sendUnsent = (): void => {
    const payloads = packNotifications(this.unsent.splice(0), this.envelopeHead, ']}');
    this.sending = this.sending
      .then(() => this.publisher.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [EVENT_CHANNEL, payloads]))
      .then(() => undefined, this.options.onError);
  };

  subscribe(handler: (event: TaskEvent) => void): () => void {
    return this.local.subscribe(handler);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    if (this.unsent.length > 0) this.sendUnsent();
    await this.sending;
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
    if (envelope.from === this.instanceId) return;
    const events = envelope.events ?? (envelope.event ? [envelope.event] : []);
    for (const event of events) this.local.publish(event);
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

/**
 * Joins event JSON texts into as few payloads as fit NOTIFY's limit, each `head` + the events,
 * comma-separated + `tail`, in order. Every event fits alone (publish checked it).
 */
function packNotifications(events: string[], head: string, tail: string): string[] {
  const empty = Buffer.byteLength(head) + Buffer.byteLength(tail);
  const payloads: string[] = [];
  let current: string[] = [];
  let bytes = empty;
  for (const json of events) {
    const size = Buffer.byteLength(json);
    // + 1: the comma before it.
    if (current.length > 0 && bytes + 1 + size > MAX_PAYLOAD_BYTES) {
      payloads.push(head + current.join(',') + tail);
      current = [];
      bytes = empty;
    }
    bytes += (current.length > 0 ? 1 : 0) + size;
    current.push(json);
  }
  if (current.length > 0) payloads.push(head + current.join(',') + tail);
  return payloads;
}
