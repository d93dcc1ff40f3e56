// Runs the three services in the foreground as one system: logs prefixed by service name,
// Ctrl-C (or SIGTERM) stops all three gracefully, and if one dies the others are stopped too.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const SERVICES = [
  { name: 'order', colour: 36 },
  { name: 'inventory', colour: 33 },
  { name: 'notification', colour: 35 },
];
const GRACE_MS = 15_000;

const tty = process.stdout.isTTY;
// Children write to a pipe, not a terminal, so they are told which log format the terminal wants.
const env = { ...process.env, LOG_FORMAT: process.env.LOG_FORMAT ?? (tty ? 'pretty' : 'json') };
const width = Math.max(...SERVICES.map((s) => s.name.length));
const label = ({ name, colour }) => {
  const text = `${name.padEnd(width)} |`;
  return tty ? `\x1b[${colour}m${text}\x1b[0m` : text;
};

let stopping = false;
let exitCode = 0;
const running = new Map();

for (const service of SERVICES) {
  const entry = `dist/apps/${service.name}/apps/${service.name}/src/main.js`;
  // Own process group: the terminal's Ctrl-C reaches only this launcher, which then stops
  // the services in an orderly way instead of all at once mid-request.
  const child = spawn(process.execPath, ['--enable-source-maps', entry], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.set(service.name, child);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) =>
      process.stdout.write(`${label(service)} ${line}\n`),
    );
  }
  child.on('exit', (code, signal) => {
    running.delete(service.name);
    if (!stopping) {
      process.stdout.write(
        `${label(service)} exited (${signal ?? `code ${code}`}); stopping the other services\n`,
      );
      exitCode = code || 1;
      stop();
    }
    if (running.size === 0) process.exit(exitCode);
  });
}

function stop() {
  if (stopping) return;
  stopping = true;
  for (const child of running.values()) child.kill('SIGTERM');
  setTimeout(() => {
    for (const [name, child] of running) {
      process.stdout.write(`${name} did not stop within ${GRACE_MS} ms; killing it\n`);
      child.kill('SIGKILL');
    }
  }, GRACE_MS).unref();
}

process.on('SIGINT', () => {
  if (stopping) {
    for (const child of running.values()) child.kill('SIGKILL');
    return;
  }
  process.stdout.write('\nStopping all services (Ctrl-C again to kill them)\n');
  stop();
});
process.on('SIGTERM', stop);
