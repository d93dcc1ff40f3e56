import { Logger } from '@nestjs/common';

/**
 * Runs `work` every `everyMs`, never two runs at once; a failed run is logged and the next one
 * tries again. `stop` waits for a run in progress, so shutdown never cuts one in half.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly logger: Logger;

  constructor(
    private readonly name: string,
    private readonly everyMs: number,
    private readonly work: () => Promise<unknown>,
  ) {
    this.logger = new Logger(name);
  }

  start(): void {
    this.timer = setInterval(() => void this.runNow(), this.everyMs);
  }

  /** Runs it now, unless a run is in progress; resolves when that run ends. */
  runNow(): Promise<void> {
    this.running ??= this.work()
      .then(() => undefined)
      .catch((error: Error) => this.logger.warn(`${this.name} failed: ${error.message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
