/**
 * The value of the series `name` whose labels include `labels`, summed over the others; undefined
 * when no such series is served. Reads Prometheus' text format as Prometheus would.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}) {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) {
      sum = (sum ?? 0) + Number(match[3]);
    }
  }
  return sum;
}
