// CPU time and resident memory of processes, read from /proc (Linux), for the per-service
// figures of the saga scenario.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond;
function clockTicks() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU seconds the process (all its threads) has used so far; NaN once gone. */
export function cpuSeconds(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return NaN;
  }
  // The command name (field 2) may hold spaces: count fields from the closing parenthesis, after
  // which field 3 (state) comes; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** The pids of the processes whose command name (`/proc/<pid>/comm`) is `name`. */
export function findProcesses(name) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

/** Resident set size in MB (VmRSS), or NaN once the process is gone. */
export function rssMegabytes(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Busy and total jiffies of the whole machine (all cores), from the first line of /proc/stat. */
function machineJiffies() {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/**
 * The monotonic clock in µs, the one V8 stamps a CPU profile's samples with (both read
 * CLOCK_MONOTONIC): a window measured here selects the samples another process took in it.
 */
export const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Watches named sets of processes (`{ name: [pid, …] }`) over a measuring window: `stop()` returns,
 * per name, the CPU its processes used, summed, as a percentage of one core (a process that ends
 * meanwhile counts until its last reading), and their summed RSS at its peak, sampled every
 * `intervalMs`. Also `self`, this process (the load generator), and `machine`, the busy share of
 * all cores, in percent; and `window`, its start and end on the monotonic clock.
 */
export function watchProcesses(sets, { intervalMs = 200 } = {}) {
  const started = performance.now();
  const startedMicros = monotonicMicros();
  const readCpu = () =>
    Object.fromEntries(
      Object.entries(sets).map(([name, pids]) => [name, pids.map((pid) => cpuSeconds(pid))]),
    );
  const before = readCpu();
  const self = process.cpuUsage();
  const machine = machineJiffies();
  const peak = Object.fromEntries(Object.keys(sets).map((name) => [name, 0]));
  const sample = () => {
    for (const [name, pids] of Object.entries(sets)) {
      const rss = pids.reduce((sum, pid) => sum + (rssMegabytes(pid) || 0), 0);
      peak[name] = Math.max(peak[name], rss);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const seconds = (performance.now() - started) / 1000;
      const after = readCpu();
      const used = process.cpuUsage(self);
      const machineNow = machineJiffies();
      const result = {};
      for (const name of Object.keys(sets)) {
        const cpu = before[name].reduce(
          (sum, start, i) => sum + (Number.isFinite(after[name][i]) ? after[name][i] - start : 0),
          0,
        );
        result[name] = { cpu: (cpu / seconds) * 100, rss: peak[name] };
      }
      result.self = { cpu: ((used.user + used.system) / 1e6 / seconds) * 100 };
      result.machine = {
        cpu: ((machineNow.busy - machine.busy) / (machineNow.total - machine.total || 1)) * 100,
      };
      result.window = { startMicros: startedMicros, endMicros: monotonicMicros(), seconds };
      return result;
    },
  };
}
