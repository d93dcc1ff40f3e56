import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { databaseUrl } from './databases.js';
import type { ServiceName } from './service-process.js';
import type { OrderingSystem } from './system.js';

const run = promisify(execFile);

export interface FaultPlan {
  /** Every client backend of the system's databases is terminated this often. */
  terminateBackendsEveryMs: number;
  /** RabbitMQ is stopped (`rabbitmqctl stop_app`) this often, for `brokerDownForMs`. */
  stopBrokerEveryMs: number;
  brokerDownForMs: number;
  /** A service, each in turn, is SIGKILLed and started again this often. */
  killServiceEveryMs: number;
}

/**
 * The ordinary faults of production, on a schedule, against a running OrderingSystem: database
 * connections dropped (`pg_terminate_backend`), the broker stopped and started, services killed
 * with SIGKILL and restarted. Uses the local RabbitMQ's `rabbitmqctl`: the broker is shared, so
 * nothing else may run meanwhile.
 */
export class FaultInjector {
  readonly done = { terminated: 0, brokerStops: 0, kills: 0 };
  /** What it did, and when. */
  readonly timeline: { at: Date; what: string }[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  private wake?: () => void;

  constructor(
    private readonly system: OrderingSystem,
    private readonly plan: FaultPlan,
  ) {
    this.admin.on('error', () => undefined);
  }

  async start(): Promise<void> {
    await this.admin.connect();
    this.running = true;
    this.loops = [
      this.every(this.plan.terminateBackendsEveryMs, () => this.terminateBackends()),
      this.every(this.plan.stopBrokerEveryMs, () => this.stopBroker()),
      this.every(this.plan.killServiceEveryMs, (round) =>
        this.killService((['inventory', 'order', 'notification'] as const)[round % 3]),
      ),
    ];
  }

  /** Stops injecting; the broker is up and every service running when it resolves. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await Promise.all(this.loops);
    await this.admin.end();
    await run('rabbitmqctl', ['start_app']);
    await run('rabbitmqctl', ['await_startup']);
    for (const name of this.system.services.keys()) {
      if (!this.system.service(name).isRunning()) await this.restart(name);
    }
  }

  /** A fault planned every 0 ms is not injected at all. */
  private async every(ms: number, fault: (round: number) => Promise<void>): Promise<void> {
    if (ms <= 0) return;
    for (let round = 0; this.running; round++) {
      await this.sleep(ms);
      if (this.running) await fault(round);
    }
  }

  private async terminateBackends(): Promise<void> {
    const { rows } = await this.admin.query<{ terminated: boolean }>(
      `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
       WHERE datname = ANY($1) AND pid <> pg_backend_pid()`,
      [[...this.system.databases.values()]],
    );
    const count = rows.filter((row) => row.terminated).length;
    this.done.terminated += count;
    this.note(`terminated ${count} backends`);
  }

  private async stopBroker(): Promise<void> {
    await run('rabbitmqctl', ['stop_app']);
    this.done.brokerStops++;
    this.note('stopped RabbitMQ');
    await new Promise((resolve) => setTimeout(resolve, this.plan.brokerDownForMs));
    await run('rabbitmqctl', ['start_app']);
    await run('rabbitmqctl', ['await_startup']);
    this.note('started RabbitMQ');
  }

  private async killService(name: ServiceName): Promise<void> {
    const service = this.system.service(name);
    await service.stop('SIGKILL');
    this.done.kills++;
    this.note(`killed ${name}`);
    await this.restart(name);
    this.note(`${name} is up again`);
  }

  private note(what: string): void {
    this.timeline.push({ at: new Date(), what });
  }

  /** As an orchestrator would: again and again until it is up (the broker may be down). */
  private async restart(name: ServiceName): Promise<void> {
    const service = this.system.service(name);
    for (;;) {
      try {
        await service.start(60_000);
        return;
      } catch {
        await service.stop('SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      const previous = this.wake;
      this.wake = () => {
        clearTimeout(timer);
        previous?.();
        resolve();
      };
    });
  }
}
