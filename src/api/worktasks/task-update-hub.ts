import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { TaskEvent } from '../../core/ports.js';
import type { TaskService } from '../../core/task-service.js';
import type { Task } from '../../domain/task.js';
import { toWorkTask } from './wire.js';

type StatusChanged = Extract<TaskEvent, { type: 'status_changed' }>;

export interface TaskUpdateHubOptions {
  path: string;
  /**
   * A subscriber with more than this many bytes waiting to be sent is dropped. 4 MiB holds a
   * burst of ~5 000 updates (~800 bytes each, a batch submit) for a client that reads at all;
   * a client that stopped reading reaches it and is cut off instead of growing without bound.
   */
  maxBufferedBytes: number;
  /** A subscriber that has not answered the previous ping when the next one is due is dropped. */
  pingIntervalMs: number;
  onError: (error: unknown) => void;
}

/** One status change to send: the task as read, the message built on first use. */
interface Update {
  event: StatusChanged;
  task: Task;
  message?: Buffer;
}

interface Subscriber {
  socket: WebSocket;
  /** The TCP socket under it: corked while a batch is sent, so the batch leaves in one write. */
  transport: Duplex;
  projectId: string | null;
  taskId: string | null;
  answeredPing: boolean;
}

// One read per batch of events: under load the batch grows, the reads per event fall.
const MAX_EVENTS_PER_READ = 500;

/**
 * WebSocket `/ws/tasks`: every status change of every task (of every server instance, on
 * PostgreSQL) as `{"event":"task_update","task":{...}}`, in order per task, optionally
 * filtered by `?project_id=` or `?worktask_id=`. Each changed task is read once per event
 * and each message serialized once, whatever the number of subscribers. Sending never
 * waits for a subscriber: one that falls behind is dropped, so nobody else is delayed.
 */
export class TaskUpdateHub {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly subscribers = new Set<Subscriber>();
  private pending: StatusChanged[] = [];
  private pumping = false;
  private readonly unwatch: () => void;
  private readonly pinger: NodeJS.Timeout;
  private attachedTo: Server | undefined;

  constructor(
    private readonly tasks: TaskService,
    private readonly options: TaskUpdateHubOptions,
  ) {
    this.unwatch = tasks.watch((event) => {
      if (event.type !== 'status_changed' || this.subscribers.size === 0) return;
      this.pending.push(event);
      if (!this.pumping) void this.pump();
    });
    this.pinger = setInterval(() => this.ping(), options.pingIntervalMs);
    this.pinger.unref();
  }

  attach(server: Server): void {
    this.attachedTo = server;
    server.on('upgrade', this.onUpgrade);
  }

  close(): void {
    this.unwatch();
    clearInterval(this.pinger);
    this.attachedTo?.off('upgrade', this.onUpgrade);
    for (const subscriber of this.subscribers) subscriber.socket.terminate();
    this.subscribers.clear();
    this.server.close();
  }

  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== this.options.path) {
      // Another upgrade handler may own that path; with none, answer rather than leave it hanging.
      if (this.attachedTo?.listenerCount('upgrade') === 1) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => {
      const subscriber: Subscriber = {
        socket: ws,
        transport: socket,
        projectId: url.searchParams.get('project_id'),
        taskId: url.searchParams.get('worktask_id'),
        answeredPing: true,
      };
      this.subscribers.add(subscriber);
      ws.on('pong', () => (subscriber.answeredPing = true));
      ws.on('close', () => this.subscribers.delete(subscriber));
      ws.on('error', () => this.drop(subscriber));
    });
  };

  /** Reads the changed tasks a batch at a time, in event order, and sends each change. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_EVENTS_PER_READ);
        const ids = [...new Set(batch.map((event) => event.taskId))];
        let tasks: Map<string, Task>;
        try {
          tasks = new Map((await this.tasks.list({ ids }, { limit: ids.length, offset: 0 })).map((task) => [task.id, task]));
        } catch (error) {
          this.options.onError(error);
          continue;
        }
        const updates: Update[] = [];
        for (const event of batch) {
          const task = tasks.get(event.taskId);
          if (task) updates.push({ event, task });
        }
        this.broadcast(updates);
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Sends a batch of changes. A write per subscriber per batch, not per change: with 1 000
   * subscribers the send syscalls took 45% of the server's time in bench/ws-fanout.mjs.
   */
  private broadcast(updates: Update[]): void {
    for (const subscriber of this.subscribers) {
      if (subscriber.socket.readyState !== WebSocket.OPEN) continue;
      if (subscriber.socket.bufferedAmount > this.options.maxBufferedBytes) {
        this.drop(subscriber);
        continue;
      }
      subscriber.transport.cork();
      for (const update of updates) {
        if (subscriber.projectId !== null && subscriber.projectId !== update.task.project) continue;
        if (subscriber.taskId !== null && subscriber.taskId !== update.task.id) continue;
        subscriber.socket.send((update.message ??= message(update)), { binary: false });
      }
      subscriber.transport.uncork();
    }
  }

  private ping(): void {
    for (const subscriber of this.subscribers) {
      if (!subscriber.answeredPing) {
        this.drop(subscriber);
        continue;
      }
      subscriber.answeredPing = false;
      subscriber.socket.ping();
    }
  }

  private drop(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
    subscriber.socket.terminate();
  }
}

/**
 * The task is read after the change, maybe after later ones too: the message shows the
 * status this event announced, and the fields Mimir shows for that status.
 */
function message({ event, task }: Update): Buffer {
  return Buffer.from(JSON.stringify({ event: 'task_update', task: toWorkTask(task, { status: event.to }) }));
}
