import { setFlagsFromString } from 'node:v8';

/** Tags listed past which a sync keeps the lean heap after its walk, through its version write. */
export const LARGE_LISTING = 100_000;

/** V8's own heuristics (1.1× to 4× by how fast it collects); ours: 1.25×, about V8's own under memory pressure. */
const DEFAULT = '--heap-growing-percent=0';
const LEAN = '--heap-growing-percent=25';

/**
 * Process-wide, counted: while any sync holds it, V8 grows the heap by a
 * quarter of what survived a collection instead of up to four times. A sync's
 * walk makes a request per tag and keeps little per tag: a million-tag mirror
 * sync holds about 120 MiB, yet its worker passed 700 MiB of RSS in garbage
 * with V8's default growth. Syncs hold it for their walk (a large listing also
 * through the version write), not for blob downloads, where the leaner heap
 * cost 30 % more CPU. Changing a V8 flag after start is unsupported in
 * general; this one is read at each collection (Node 20, V8 11.3). Left alone
 * when the operator set the flag on the command line.
 */
export class LeanHeap {
  private holders = 0;

  constructor(
    private readonly setFlags: (flags: string) => void = setFlagsFromString,
    private readonly operatorSet = process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent')),
  ) {}

  /** Takes a hold; the returned release may be called any number of times. */
  hold(): () => void {
    if (this.operatorSet) return () => undefined;
    if (this.holders === 0) this.setFlags(LEAN);
    this.holders += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holders -= 1;
      if (this.holders === 0) this.setFlags(DEFAULT);
    };
  }
}

/** The process's one lean-heap count. */
export const leanHeap = new LeanHeap();
