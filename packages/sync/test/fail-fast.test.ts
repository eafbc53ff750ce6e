import { describe, expect, it } from 'vitest';
import { FailFast } from '../src/fail-fast.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('FailFast.each', () => {
  it('pulls items lazily, at most `concurrency` at work', async () => {
    let pulled = 0;
    let working = 0;
    let peak = 0;
    async function* endless() {
      for (;;) {
        pulled += 1;
        yield pulled;
      }
    }
    const failFast = new FailFast(new AbortController().signal);
    const stopAt = 50;
    await expect(
      failFast.each(endless(), 3, async (n) => {
        working += 1;
        peak = Math.max(peak, working);
        await tick();
        working -= 1;
        if (n === stopAt) throw new Error('enough');
      }),
    ).rejects.toThrow('enough');
    expect(peak).toBe(3);
    // Stopped pulling once item 50 failed: no more than the three at work then.
    expect(pulled).toBeLessThanOrEqual(stopAt + 3);
  });

  it('waits for the work it started before it throws the first failure, and closes the source', async () => {
    let finished = 0;
    let closed = false;
    async function* items() {
      try {
        for (let i = 0; ; i += 1) yield i;
      } finally {
        closed = true;
      }
    }
    const failFast = new FailFast(new AbortController().signal);
    const run = failFast.each(items(), 4, async (i) => {
      if (i === 0) throw new Error('first');
      await tick();
      finished += 1;
      if (i === 1) throw new Error('second');
    });
    await expect(run).rejects.toThrow('first');
    expect(finished).toBe(3);
    expect(closed).toBe(true);
  });

  it('throws when the parent stops it, so a caller never takes a partial result for a whole one', async () => {
    const parent = new AbortController();
    const failFast = new FailFast(parent.signal);
    const seen: number[] = [];
    const run = failFast.each([1, 2, 3, 4, 5, 6], 1, async (n) => {
      seen.push(n);
      if (n === 2) parent.abort(new Error('canceled'));
      await tick();
    });
    await expect(run).rejects.toThrow('canceled');
    expect(seen).toEqual([1, 2]);
  });

  it('records a failure of the source itself', async () => {
    async function* broken() {
      yield 1;
      throw new Error('listing broke');
    }
    const failFast = new FailFast(new AbortController().signal);
    await expect(failFast.each(broken(), 2, async () => undefined)).rejects.toThrow('listing broke');
  });
});

describe('FailFast.signal', () => {
  it('takes a listener per request in flight, past Node’s default of 10, without a leak warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const { signal } = new FailFast(new AbortController().signal);
      for (let i = 0; i < 32; i++) signal.addEventListener('abort', () => undefined);
      await tick();
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
