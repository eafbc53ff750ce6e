import { describe, expect, it } from 'vitest';
import { batched } from '../src/batched.ts';

describe('batched', () => {
  it('answers each caller, gathering the calls that arrive while a batch runs into the next one', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const firstHeld = new Promise<void>((resolve) => (release = resolve));
    const double = batched(async (keys: readonly number[]) => {
      batches.push([...keys]);
      if (batches.length === 1) await firstHeld;
      return keys.map((k) => k * 2);
    }, 100);

    const first = [double(1), double(2)];
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(batches).toEqual([[1, 2]]);
    const later = [double(3), double(4), double(5)];
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The second batch waits for the first.
    expect(batches).toEqual([[1, 2]]);
    release();
    expect(await Promise.all([...first, ...later])).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
  });

  it('rejects every caller of a failing batch, and runs the next batch all the same', async () => {
    let calls = 0;
    const lookUp = batched(async (keys: readonly string[]) => {
      calls += 1;
      if (calls === 1) throw new Error('database unavailable');
      return keys.map((k) => k.toUpperCase());
    }, 10);
    const failing = [lookUp('a'), lookUp('b')];
    await expect(failing[0]).rejects.toThrow('database unavailable');
    await expect(failing[1]).rejects.toThrow('database unavailable');
    await expect(lookUp('c')).resolves.toBe('C');
  });

  it('splits more calls than maxBatchSize into several batches', async () => {
    const sizes: number[] = [];
    const echo = batched(async (keys: readonly number[]) => {
      sizes.push(keys.length);
      return keys;
    }, 3);
    expect(await Promise.all([1, 2, 3, 4, 5, 6, 7].map((k) => echo(k)))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(sizes).toEqual([3, 3, 1]);
  });
});
