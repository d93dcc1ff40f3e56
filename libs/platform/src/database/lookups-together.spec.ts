import { describe, expect, it } from '@jest/globals';
import { LookupsTogether } from './lookups-together.js';

describe('LookupsTogether', () => {
  const lookupsCounting = (reads: string[][]) =>
    new LookupsTogether<string, number>(
      (key) => key,
      async (keys) => {
        reads.push(keys);
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

  it('gathers the lookups asked while a read is in flight into the next read', async () => {
    const reads: string[][] = [];
    let finishFirst!: () => void;
    const lookups = new LookupsTogether<string, number>(
      (key) => key,
      async (keys) => {
        reads.push(keys);
        if (reads.length === 1) await new Promise<void>((resolve) => (finishFirst = resolve));
        return new Map(keys.map((key) => [key, key.length]));
      },
    );
    const first = lookups.find('a');
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads).toEqual([['a']]);
    const later = [lookups.find('bb'), lookups.find('ccc')];
    await new Promise((resolve) => setImmediate(resolve));
    const alsoLater = lookups.find('dddd');
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads).toEqual([['a']]);
    finishFirst();
    expect(await Promise.all([first, ...later, alsoLater])).toEqual([1, 2, 3, 4]);
    expect(reads).toEqual([['a'], ['bb', 'ccc', 'dddd']]);
  });

  it('fails every lookup a failed read served, and only those', async () => {
    const reads: string[][] = [];
    const lookups = new LookupsTogether<string, number>(
      (key) => key,
      async (keys) => {
        reads.push(keys);
        if (reads.length === 1) throw new Error('the database is down');
        return new Map(keys.map((key) => [key, key.length]));
      },
    );
    const failed = await Promise.allSettled(['a', 'bb'].map((key) => lookups.find(key)));
    expect(failed.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(await lookups.find('ccc')).toBe(3);
  });
});
