import { describe, expect, it } from '@jest/globals';
import { LookupsTogether } from './lookups-together.js';

describe('LookupsTogether', () => {
  const lookupsCounting = (reads: string[][], fail = false) =>
    new LookupsTogether<string, number>(
      (key) => key,
      async (keys) => {
        reads.push(keys);
        if (fail) throw new Error('the database is down');
        return new Map(keys.filter((key) => key !== 'missing').map((key) => [key, key.length]));
      },
    );

  it('answers the lookups of one turn with one read of their distinct keys', async () => {
    const reads: string[][] = [];
    const lookups = lookupsCounting(reads);
    const found = await Promise.all(['a', 'bb', 'a', 'missing'].map((key) => lookups.find(key)));
    expect(found).toEqual([1, 2, 1, undefined]);
    expect(reads).toEqual([['a', 'bb', 'missing']]);
  });

  it('reads again for lookups asked after the last read began', async () => {
    const reads: string[][] = [];
    const lookups = lookupsCounting(reads);
    await lookups.find('a');
    await lookups.find('bb');
    expect(reads).toEqual([['a'], ['bb']]);
  });

  it('fails every lookup a failed read served', async () => {
    const lookups = lookupsCounting([], true);
    const outcomes = await Promise.allSettled(['a', 'bb'].map((key) => lookups.find(key)));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
  });
});
