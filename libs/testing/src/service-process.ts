import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';

export type ServiceName = 'order' | 'inventory' | 'notification';

const ROOT = path.resolve(import.meta.dirname, '../../..');

export function entryPoint(service: ServiceName): string {
  return path.join(ROOT, `dist/apps/${service}/apps/${service}/src/main.js`);
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * One service run as users run it: the built `dist` entry point in its own process, configured
 * only through environment variables. Its output is kept for assertions and failure reports.
 */
export class ServiceProcess {
  private child?: ChildProcess;
  /** What the current process said. */
  output = '';
  /** What every process it started said, restarts included. */
  history = '';

  constructor(
    readonly service: ServiceName,
    readonly port: number,
    readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the process without waiting for it to be ready. */
  spawn(): ChildProcess {
    this.output = '';
    this.history += `\n--- ${this.service} started at ${new Date().toISOString()} ---\n`;
    const child = spawn(process.execPath, ['--enable-source-maps', entryPoint(this.service)], {
      env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output += chunk.toString();
      this.history += chunk.toString();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.child = child;
    return child;
  }

  /** Starts the process and waits until `GET /health` answers 200; fails at once if it exits. */
  async start(timeoutMs = 30_000): Promise<this> {
    const child = this.spawn();
    const until = Date.now() + timeoutMs;
    let last: string;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `${this.service} exited with ${child.exitCode ?? child.signalCode}:\n${this.output}`,
        );
      }
      try {
        const response = await fetch(`${this.url}/health`);
        if (response.status === 200) return this;
        last = `health ${response.status}`;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > until) {
        throw new Error(`${this.service} did not become healthy: ${last}\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Whether its process is alive (started and not exited). */
  isRunning(): boolean {
    const child = this.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  async exited(): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const [code] = await once(child, 'exit');
    return code as number | null;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null)
      return child?.exitCode ?? null;
    child.kill(signal);
    return this.exited();
  }
}
