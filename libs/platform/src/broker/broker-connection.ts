import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import amqplib, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Socket } from 'node:net';
import { redactUrl } from '../connection-url.js';
import { BROKER_OPTIONS, type BrokerOptions } from './broker.module-definition.js';

const RECONNECT_DELAY_MS = 1000;
const CONNECT_TIMEOUT_MS = 5000;
const HEARTBEAT_SECONDS = 5;
const MAX_REOPEN_DELAY_MS = 30_000;

export interface ChannelOptions<C extends Channel> {
  /** Shown in logs and in `/health` when the channel is down. */
  name: string;
  /** Runs on every channel opened for it, before anyone may use it: declare, prefetch, consume. */
  setup?: (channel: C) => Promise<void>;
}

/**
 * A channel that is always being brought back: after a broker restart, and also after the broker
 * closed it alone (a publish to a missing exchange, a failed declaration, a consumer timeout),
 * which a connection-level reconnect would never notice. `current` is the open channel, if any.
 */
export class ManagedChannel<C extends Channel = Channel> {
  current?: C;
  /** Why it is not open, while it is not. */
  problem?: string = 'not opened yet';
  private waiters: (() => void)[] = [];
  /** @internal openings in a row that did not last */
  failures = 0;

  constructor(
    readonly options: ChannelOptions<C> & { confirm: boolean },
    private readonly logger: Logger,
  ) {}

  get name(): string {
    return this.options.name;
  }

  /** Resolves once the channel is open (at once if it is). */
  async whenOpen(): Promise<void> {
    if (this.current) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** @internal */
  opened(channel: C): void {
    this.current = channel;
    this.problem = undefined;
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  /** @internal */
  closed(channel: C, why: string): void {
    if (this.current !== channel && this.current !== undefined) return;
    this.current = undefined;
    this.problem = why;
  }

  /** @internal */
  failed(why: string): void {
    this.problem = why;
    this.logger.warn(`RabbitMQ channel ${this.name}: ${why}`);
  }
}

/**
 * The service's one connection to RabbitMQ, shared by its publisher and its consumers, each on a
 * channel of its own. It reconnects by itself after the broker restarts, declares its own
 * exchanges again on every connect (so a wiped broker heals), and reopens any channel the broker
 * closes. `/health` reports it down while the connection or any channel is.
 */
@Injectable()
export class BrokerConnection implements OnApplicationShutdown {
  private readonly logger = new Logger(BrokerConnection.name);
  private readonly channels: ManagedChannel<Channel>[] = [];
  private connection?: ChannelModel;
  private closing = false;
  private wakeUp?: () => void;
  private readonly running: Promise<void>;
  /** Which of `options.urls` it connects to next, or is connected to. */
  private node = 0;

  constructor(@Inject(BROKER_OPTIONS) readonly options: BrokerOptions) {
    this.manage({
      name: 'topology',
      confirm: false,
      setup: async (channel) => {
        for (const exchange of options.exchanges) {
          await channel.assertExchange(exchange, 'topic', { durable: true });
        }
      },
    });
    this.running = this.run();
  }

  /** The node it is connected to, or tries next. */
  get address(): string {
    return redactUrl(this.options.urls[this.node]);
  }

  /** What keeps the broker from working for this service, if anything, where and why: for logs. */
  problems(): string[] {
    if (!this.connection) return [`RabbitMQ unreachable at ${this.address}`];
    return this.channels
      .filter((channel) => !channel.current)
      .map((channel) => `RabbitMQ channel ${channel.name} is closed: ${channel.problem}`);
  }

  /** The same, naming only what is down: for the public `/health`, which must not say where. */
  outages(): string[] {
    if (!this.connection) return ['RabbitMQ unreachable'];
    return this.channels
      .filter((channel) => !channel.current)
      .map((channel) => `RabbitMQ channel ${channel.name} is closed`);
  }

  /** A channel with publisher confirms, for a publisher or a consumer (which republishes). */
  confirmChannel(options: ChannelOptions<ConfirmChannel>): ManagedChannel<ConfirmChannel> {
    return this.manage({ ...options, confirm: true });
  }

  /** Stops using a channel and closes it. */
  async release<C extends Channel>(managed: ManagedChannel<C>): Promise<void> {
    const index = this.channels.indexOf(managed as unknown as ManagedChannel<Channel>);
    if (index >= 0) this.channels.splice(index, 1);
    const channel = managed.current;
    managed.closed(channel!, 'released');
    await channel?.close().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.wakeUp?.();
    await this.connection?.close().catch(() => undefined);
    await this.running;
  }

  private manage<C extends Channel>(options: ChannelOptions<C> & { confirm: boolean }) {
    const managed = new ManagedChannel<C>(options, this.logger);
    this.channels.push(managed as unknown as ManagedChannel<Channel>);
    if (this.connection) void this.open(managed as unknown as ManagedChannel<Channel>);
    return managed;
  }

  private async run(): Promise<void> {
    while (!this.closing) {
      try {
        const connection = await amqplib.connect(this.connectionUrl(), {
          timeout: CONNECT_TIMEOUT_MS,
          // amqplib leaves Nagle's algorithm on: a publish's frames then wait for the broker's
          // delayed ACK, and every confirm took about 40 ms instead of one or two. Without it,
          // coalesceWrites keeps frames sent together in one segment.
          noDelay: true,
          clientProperties: { connection_name: this.options.connectionName },
        });
        const closed = new Promise<void>((resolve) => {
          // Unheard, an `error` event would kill the process; `close` always follows it.
          connection.on('error', (error: Error) =>
            this.logger.warn(`RabbitMQ connection error: ${error.message}`),
          );
          connection.on('close', () => resolve());
        });
        coalesceWrites(connection);
        connection.on('blocked', (reason: string) =>
          this.logger.warn(`RabbitMQ blocks publishing: ${reason}`),
        );
        this.connection = connection;
        this.logger.log(`Connected to RabbitMQ at ${this.address}`);
        // In order: the topology is declared before anyone publishes to it or consumes from it.
        for (const channel of [...this.channels]) await this.open(channel);
        await closed;
        this.connection = undefined;
        for (const channel of this.channels) {
          channel.closed(channel.current!, 'the connection to RabbitMQ is lost');
        }
        if (!this.closing) this.logger.warn(`Lost RabbitMQ at ${this.address}; reconnecting`);
      } catch (error) {
        this.connection = undefined;
        this.logger.warn(
          `Cannot reach RabbitMQ at ${this.address}: ${(error as Error).message}; retrying`,
        );
      }
      // A node lost is likely down: the next try goes to the next node of the cluster, and only
      // a whole round of them waits.
      this.node = (this.node + 1) % this.options.urls.length;
      if (!this.closing && this.node === 0) await this.sleep(RECONNECT_DELAY_MS);
    }
  }

  private async open(managed: ManagedChannel<Channel>): Promise<void> {
    const connection = this.connection;
    if (!connection || this.closing || !this.channels.includes(managed)) return;
    let channel: Channel;
    try {
      channel = managed.options.confirm
        ? await connection.createConfirmChannel()
        : await connection.createChannel();
    } catch (error) {
      // The connection is going: its reconnect reopens every channel.
      managed.failed(`cannot open: ${(error as Error).message}`);
      return;
    }
    let why = 'closed by the broker';
    const opened: { at?: number } = {};
    channel.on('error', (error: Error) => (why = error.message));
    channel.on('close', () => {
      managed.closed(channel, why);
      // With the connection gone, the reconnect reopens every channel; a channel closed alone is
      // reopened here, later each time it keeps closing at once.
      if (this.connection !== connection || this.closing) return;
      if (!this.channels.includes(managed)) return;
      const lasted = opened.at !== undefined && Date.now() - opened.at > 10_000;
      managed.failures = lasted ? 0 : managed.failures + 1;
      const delay = Math.min(250 * 2 ** managed.failures, MAX_REOPEN_DELAY_MS);
      managed.failed(`${why}; reopening in ${delay} ms`);
      setTimeout(() => {
        if (this.connection === connection) void this.open(managed);
      }, delay).unref();
    });
    try {
      await managed.options.setup?.(channel);
    } catch (error) {
      // A failed declaration closes the channel; its close handler tries again later.
      why = `set-up failed: ${(error as Error).message}`;
      await channel.close().catch(() => undefined);
      return;
    }
    opened.at = Date.now();
    managed.opened(channel);
  }

  private connectionUrl(): string {
    const url = new URL(this.options.urls[this.node]);
    if (!url.searchParams.has('heartbeat')) {
      url.searchParams.set('heartbeat', String(HEARTBEAT_SECONDS));
    }
    return url.toString();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

const pendingReturns = new WeakMap<ConfirmChannel, Map<string, (reason: string) => void>>();
let published = 0;

/**
 * Publishes one message on a confirm channel, `mandatory`, and resolves once the broker has
 * confirmed it; rejects if it is refused or returned as unroutable (a queue that is not there),
 * if the channel closes first, or if no confirm comes within `timeoutMs`.
 */
export function publishConfirmed(
  channel: ConfirmChannel,
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: amqplib.Options.Publish,
  timeoutMs = 10_000,
): Promise<void> {
  let returns = pendingReturns.get(channel);
  if (!returns) {
    const waiting = new Map<string, (reason: string) => void>();
    channel.on('return', (message: amqplib.Message) => {
      const id = String(message.properties.headers?.['x-publish-id'] ?? '');
      waiting.get(id)?.(`unroutable: nothing is bound to ${message.fields.routingKey}`);
    });
    pendingReturns.set(channel, waiting);
    returns = waiting;
  }
  const id = `${process.pid}-${++published}`;
  return new Promise<void>((resolve, reject) => {
    let returned: string | undefined;
    returns.set(id, (reason) => (returned = reason));
    const done = (error?: Error) => {
      clearTimeout(timer);
      returns.delete(id);
      if (error) reject(error);
      else if (returned) reject(new Error(returned));
      else resolve();
    };
    const timer = setTimeout(
      () => done(new Error(`not confirmed within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      channel.publish(
        exchange,
        routingKey,
        content,
        { ...options, mandatory: true, headers: { ...options.headers, 'x-publish-id': id } },
        (error) =>
          done(error ? (error instanceof Error ? error : new Error(String(error))) : undefined),
      );
    } catch (error) {
      done(error as Error);
    }
  });
}

/**
 * amqplib writes each frame to the socket on its own (a publish is three), so without Nagle's
 * algorithm every frame is a system call and a TCP segment. Corked until the end of the tick, the
 * frames written together (a relay batch, a batch's acks) leave in one `writev`. It reaches into
 * amqplib's connection for its socket (`connection.stream`, there since amqplib's first versions).
 */
function coalesceWrites(model: ChannelModel): void {
  const socket = (model as unknown as { connection?: { stream?: Socket } }).connection?.stream;
  if (typeof socket?.cork !== 'function') return;
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    return write(...args);
  }) as Socket['write'];
}
