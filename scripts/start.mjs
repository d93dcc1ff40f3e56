// Runs the three services in the foreground as one system: logs prefixed by service name,
// Ctrl-C (or SIGTERM) stops all three gracefully. A service that dies is restarted, with a pause
// that doubles while it keeps dying right after it starts, and the others keep running; one that
// dies right after starting five times in a row is given up on, and the launcher says why.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const SERVICES = [
  { name: 'order', colour: 36 },
  { name: 'inventory', colour: 33 },
  { name: 'notification', colour: 35 },
];
/** Longer than a service's own shutdown deadline (8 s), so it normally stops by itself. */
const GRACE_MS = 15_000;
/** A service that ran this long before it died was up: its next crash starts the count again. */
const UP_FOR_MS = 10_000;
const GIVE_UP_AFTER = 5;
const MAX_DELAY_MS = 30_000;
const FIRST_DELAY_MS = Number(process.env.START_RESTART_DELAY_MS ?? 1000);
const LAST_LINES = 15;

const tty = process.stdout.isTTY;
// Children write to a pipe, not a terminal, so they are told which log format the terminal wants.
const env = { ...process.env, LOG_FORMAT: process.env.LOG_FORMAT ?? (tty ? 'pretty' : 'json') };
const width = Math.max(...SERVICES.map((s) => s.name.length));
const label = ({ name, colour }) => {
  const text = `${name.padEnd(width)} |`;
  return tty ? `\x1b[${colour}m${text}\x1b[0m` : text;
};
const say = (service, line) => process.stdout.write(`${label(service)} ${line}\n`);

let stopping = false;
let exitCode = 0;
/** name -> { child, startedAt, quickCrashes, lastLines, restart } */
const state = new Map();

function start(service) {
  const entry = `dist/apps/${service.name}/apps/${service.name}/src/main.js`;
  // Own process group: the terminal's Ctrl-C reaches only this launcher, which then stops
  // the services in an orderly way instead of all at once mid-request.
  const child = spawn(process.execPath, ['--enable-source-maps', entry], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const current = state.get(service.name) ?? { quickCrashes: 0, lastLines: [] };
  Object.assign(current, { child, startedAt: Date.now(), restart: undefined });
  state.set(service.name, current);
  say(service, `started (pid ${child.pid})`);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      current.lastLines.push(line);
      if (current.lastLines.length > LAST_LINES) current.lastLines.shift();
      say(service, line);
    });
  }
  child.on('exit', (code, signal) => exited(service, current, code, signal));
}

function exited(service, current, code, signal) {
  current.child = undefined;
  if (stopping) return finishIfAllStopped();
  const how = signal ?? `code ${code}`;
  const upFor = Date.now() - current.startedAt;
  current.quickCrashes = upFor >= UP_FOR_MS ? 1 : current.quickCrashes + 1;
  if (current.quickCrashes >= GIVE_UP_AFTER) {
    say(
      service,
      `exited (${how}) ${GIVE_UP_AFTER} times in a row, each within ${UP_FOR_MS / 1000} s of ` +
        'starting: giving up on it and stopping the others. What it said last:',
    );
    for (const line of current.lastLines) say(service, `  ${line}`);
    exitCode = code || 1;
    return stop();
  }
  const delay = Math.min(FIRST_DELAY_MS * 2 ** (current.quickCrashes - 1), MAX_DELAY_MS);
  say(service, `exited (${how}); restarting in ${delay} ms (the other services keep running)`);
  current.restart = setTimeout(() => {
    current.restart = undefined;
    if (!stopping) start(service);
  }, delay);
}

function running() {
  return [...state.values()].filter((s) => s.child);
}

function finishIfAllStopped() {
  if (running().length === 0) process.exit(exitCode);
}

function stop() {
  if (stopping) return;
  stopping = true;
  for (const current of state.values()) clearTimeout(current.restart);
  for (const { child } of running()) child.kill('SIGTERM');
  finishIfAllStopped();
  setTimeout(() => {
    for (const [name, { child }] of state) {
      if (!child) continue;
      process.stdout.write(`${name} did not stop within ${GRACE_MS} ms; killing it\n`);
      child.kill('SIGKILL');
    }
  }, GRACE_MS).unref();
}

process.on('SIGINT', () => {
  if (stopping) {
    for (const { child } of running()) child.kill('SIGKILL');
    return;
  }
  process.stdout.write('\nStopping all services (Ctrl-C again to kill them)\n');
  stop();
});
process.on('SIGTERM', stop);

for (const service of SERVICES) start(service);
