// Small statistics and timing helpers shared by the scenarios.

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The p-th percentile (0..100) by nearest rank. */
export function percentile(values, p) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const now = () => performance.now();

/**
 * Runs `operation(worker, index)` in a closed loop on `concurrency` workers for `durationMs`, and
 * returns how many completed and over how long (first start to last completion).
 */
export async function closedLoop({ concurrency, durationMs, operation, onTick }) {
  const started = now();
  const deadline = started + durationMs;
  let completed = 0;
  let last = started;
  const tick = onTick
    ? setInterval(() => onTick(Math.min(1, (now() - started) / durationMs)), 200)
    : undefined;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        while (now() < deadline) {
          await operation(worker, completed);
          completed++;
          last = now();
        }
      }),
    );
  } finally {
    if (tick) clearInterval(tick);
  }
  const seconds = (last - started) / 1000;
  return { completed, seconds, perSecond: completed / seconds };
}
