// Turns a scenario's steps, each with an estimated weight (seconds), into progress fractions.

export class Plan {
  constructor(progress, totalWeight) {
    this.progress = progress;
    this.total = totalWeight;
    this.done = 0;
  }

  /** Runs `work(tick)` as the next step of `weight`; `tick(fraction)` reports progress within it. */
  async step(weight, label, work) {
    const base = this.done;
    const tick = (fraction, detail) =>
      this.progress(
        Math.min(1, (base + weight * Math.min(1, fraction)) / this.total),
        label,
        detail,
      );
    tick(0);
    try {
      return await work(tick);
    } finally {
      this.done = base + weight;
      this.progress(Math.min(1, this.done / this.total), label);
    }
  }
}
