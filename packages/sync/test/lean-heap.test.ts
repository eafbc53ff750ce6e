import { describe, expect, it } from 'vitest';
import { LeanHeap } from '../src/lean-heap.ts';

describe('LeanHeap', () => {
  it('sets the lean flag for the first holder and restores V8 default after the last, once per release', () => {
    const set: string[] = [];
    const heap = new LeanHeap((flags) => set.push(flags), false);
    const first = heap.hold();
    const second = heap.hold();
    expect(set).toEqual(['--heap-growing-percent=25']);
    first();
    first();
    expect(set).toHaveLength(1);
    second();
    expect(set).toEqual(['--heap-growing-percent=25', '--heap-growing-percent=0']);
    heap.hold();
    expect(set).toHaveLength(3);
  });

  it('leaves the flag alone when the operator set it', () => {
    const set: string[] = [];
    const heap = new LeanHeap((flags) => set.push(flags), true);
    heap.hold()();
    expect(set).toEqual([]);
  });
});
