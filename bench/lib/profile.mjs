// Summaries of V8 CPU profiles (`node --cpu-prof`) for the report: where a process's busy time
// went, by package and by function (self time), so a miss can be explained without opening the
// profile in a viewer (Chrome DevTools, speedscope) — which the saved files allow too.
import { readFile } from 'node:fs/promises';

const NOT_BUSY = new Set(['(idle)', '(program)']);

/** The package (or `app code`, `node`) a call frame belongs to. */
function areaOf(url) {
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  if (url.includes('/dist/')) return 'app code (dist)';
  return 'node';
}

/**
 * `{ busyMs, areas: [[name, ms]], functions: [[name, ms]] }` by self time, idle left out; a native
 * frame counts for the package that called it. Time in a native call such as `writev` includes
 * waiting for a CPU after it returns: a write to PostgreSQL's socket wakes the backend, which may
 * take the core. With `windows` (`[{ startMicros, endMicros }]` on the monotonic clock, see
 * proc.mjs), only the samples taken inside them count: a measured phase without the start-up.
 */
export async function summarizeProfile(file, { top = 12, windows } = {}) {
  const profile = JSON.parse(await readFile(file, 'utf8'));
  let at = profile.startTime;
  const counts = (i) => {
    at += profile.timeDeltas[i] ?? 0;
    return !windows || windows.some((w) => at >= w.startMicros && at < w.endMicros);
  };
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parents.set(child, node.id);
  // Native frames (a syscall, a V8 builtin) and Node's internals count for the package whose
  // code called them: a socket write for pg, say.
  const areaFrom = (id) => {
    for (let at = id; at !== undefined; at = parents.get(at)) {
      const { url } = nodes.get(at).callFrame;
      if (url && !url.startsWith('node:')) return areaOf(url);
    }
    return 'node';
  };
  const self = new Map();
  profile.samples.forEach((id, i) => {
    if (counts(i)) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const areas = new Map();
  const functions = new Map();
  let busy = 0;
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    if (NOT_BUSY.has(functionName)) continue;
    busy += micros;
    const area = functionName === '(garbage collector)' ? 'garbage collector' : areaFrom(id);
    areas.set(area, (areas.get(area) ?? 0) + micros);
    const where = url
      ? ` (${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1})`
      : '';
    const name = `${functionName || '(anonymous)'}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
  }
  const ranked = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => [name, micros / 1000]);
  return { busyMs: busy / 1000, areas: ranked(areas), functions: ranked(functions) };
}

/**
 * The summary as Markdown lines: shares of busy time and, given `perUnit` (how many units of work
 * the profiled time did, `{ count, name }`: confirmed orders, say), the sampled milliseconds per
 * unit, by area.
 */
export function profileMarkdown(title, { busyMs, areas, functions }, perUnit) {
  const share = (ms) => `${((100 * ms) / busyMs).toFixed(1)}%`;
  const each = (ms) => (perUnit ? ` (${(ms / perUnit.count).toFixed(3)} ms)` : '');
  return [
    `**${title}**: ${Math.round(busyMs).toLocaleString('en')} ms busy` +
      (perUnit
        ? `, ${(busyMs / perUnit.count).toFixed(2)} ms per ${perUnit.name} ` +
          `(${perUnit.count.toLocaleString('en')} of them)`
        : '') +
      '. By area: ' +
      areas.map(([name, ms]) => `${name} ${share(ms)}${each(ms)}`).join(', ') +
      '. Top functions (self time): ' +
      functions.map(([name, ms]) => `\`${name}\` ${share(ms)}`).join(', ') +
      '.',
  ];
}
