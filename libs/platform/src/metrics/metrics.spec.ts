import { afterEach, describe, expect, it } from '@jest/globals';
import { metricsRegistry, readOnScrape } from './metrics.js';

describe('readOnScrape', () => {
  const removals: (() => void)[] = [];
  afterEach(() => removals.splice(0).forEach((remove) => remove()));

  it('serves the other metrics when a reading fails, at once or later, and that one as unknown', async () => {
    removals.push(
      readOnScrape('test_broken_now', 'throws at once', [], () => {
        throw new TypeError('pool is gone');
      }),
      readOnScrape('test_broken_later', 'rejects', [], async () => {
        throw new Error('database down');
      }),
      readOnScrape('test_working', 'reads', [], (gauge) => gauge.set(7)),
    );

    const text = await metricsRegistry.metrics();

    expect(text).toMatch(/^test_working 7$/m);
    // prom-client writes it "Nan", which Prometheus reads as NaN too.
    expect(text).toMatch(/^test_broken_now NaN$/im);
    expect(text).toMatch(/^test_broken_later NaN$/im);
  });

  it('is removed by its own removal only: a later provider of the same name stays', async () => {
    const first = readOnScrape('test_replaced', 'first', [], (gauge) => gauge.set(1));
    removals.push(readOnScrape('test_replaced', 'second', [], (gauge) => gauge.set(2)));
    first();

    expect(await metricsRegistry.metrics()).toMatch(/^test_replaced 2$/m);
    removals.splice(0).forEach((remove) => remove());
    expect(await metricsRegistry.metrics()).not.toMatch(/^test_replaced /m);
  });
});
