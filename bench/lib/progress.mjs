// A progress bar on stderr: redrawn in place with `\r` at a terminal, plain lines otherwise.

const WIDTH = 28;

function clock(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export class Progress {
  constructor(stream = process.stderr) {
    this.stream = stream;
    this.tty = Boolean(stream.isTTY);
    this.started = performance.now();
    this.fraction = 0;
    this.label = '';
    this.lastLine = '';
    this.lastDraw = 0;
  }

  /**
   * `fraction` of the whole run done (0..1), what is running now, and a detail that changes often
   * (a counter): shown at a terminal only, so redirected output gets one line per step.
   */
  update(fraction, label = this.label, detail = '') {
    this.fraction = Math.max(this.fraction, Math.min(1, fraction));
    const changed = label !== this.label;
    this.label = label;
    const percent = String(Math.floor(this.fraction * 100)).padStart(3);
    if (this.tty) {
      const t = performance.now();
      if (!changed && t - this.lastDraw < 100) return;
      this.lastDraw = t;
      const filled = Math.round(this.fraction * WIDTH);
      const bar = '█'.repeat(filled) + '░'.repeat(WIDTH - filled);
      const columns = this.stream.columns || 100;
      let line = `${bar} ${percent}% ${clock(t - this.started)} ${label}${detail ? ` ${detail}` : ''}`;
      if (line.length > columns - 1) line = line.slice(0, columns - 2) + '…';
      this.stream.write(`\r${line.padEnd(Math.min(columns - 1, this.lastLine.length))}`);
      this.lastLine = line;
    } else if (changed) {
      this.stream.write(`[${percent}%] ${clock(performance.now() - this.started)} ${label}\n`);
    }
  }

  /** A message on its own line, without breaking the bar. */
  log(message) {
    if (this.tty && this.lastLine) this.stream.write(`\r${' '.repeat(this.lastLine.length)}\r`);
    this.stream.write(`${message}\n`);
    if (this.tty && this.lastLine) this.stream.write(this.lastLine);
  }

  done() {
    if (this.tty && this.lastLine) this.stream.write(`\r${' '.repeat(this.lastLine.length)}\r`);
    this.lastLine = '';
  }
}
