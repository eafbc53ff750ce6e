import { CisternError } from '@cistern/errors';
import type { PrismaClient } from '../generated/client.ts';

/** A hold lives this long without renewal (ms), and is renewed every third of it. */
export const HOLD_TTL_MS = 60_000;

/**
 * One writer's hold on content (a sync, an on-demand fetch, an upload):
 * while it lives, orphan cleanup and reclaim leave alone every Blob and
 * Manifest row touched since `since`. See the README, "Storage lifecycle".
 */
export interface ContentHold {
  /** The ContentHold row: touches compare with its start in SQL, so every clock involved is the database's. */
  readonly id: string;
  /** Aborted (with a retryable LOCK_LOST CisternError) once the hold has lapsed: it protects nothing any more. */
  readonly lost: AbortSignal;
  /** Ends the hold; what it protected becomes collectable once nothing references it. */
  release(): Promise<void>;
}

/**
 * Takes holds in the ContentHold table, each renewed while its holder runs.
 * A holder killed without releasing stops renewing: its hold expires after
 * `ttlMs` (milliseconds) and protects nothing any more. Rejects when the database does.
 */
export class ContentHolds {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly ttlMs = HOLD_TTL_MS,
  ) {}

  /** A new hold named `holder` (e.g. "sync:<repository id>"), started by the database's clock. */
  async acquire(holder: string): Promise<ContentHold> {
    const { prisma, ttlMs } = this;
    const [row] = await prisma.$queryRaw<{ id: string }[]>`
      INSERT INTO "ContentHold" ("id", "holder", "expiresAt")
      VALUES (gen_random_uuid(), ${holder}, CURRENT_TIMESTAMP + make_interval(secs => ${ttlMs / 1000}))
      RETURNING "id"::text`;
    if (!row) throw new Error('INSERT … RETURNING gave no row');
    // Started again once the row is visible: a cleanup that fixed its cutoff before it could see the
    // hold fixed it before this start too, so whatever is touched from now on is protected.
    await prisma.$executeRaw`UPDATE "ContentHold" SET "startedAt" = CURRENT_TIMESTAMP WHERE "id" = ${row.id}::uuid`;
    const lost = new AbortController();
    const lapse = () => lost.abort(new CisternError('LOCK_LOST', `content hold ${holder} lapsed`, { retryable: true }));
    let renewedAt = Date.now();
    const renew = setInterval(() => {
      // Only a live hold is renewed: one that lapsed may already have let a cleanup through.
      prisma.$executeRaw`
        UPDATE "ContentHold" SET "expiresAt" = CURRENT_TIMESTAMP + make_interval(secs => ${ttlMs / 1000})
        WHERE "id" = ${row.id}::uuid AND "expiresAt" > CURRENT_TIMESTAMP`.then(
        (renewed) => (renewed === 1 ? (renewedAt = Date.now()) : lapse()),
        () => {
          if (Date.now() - renewedAt >= ttlMs) lapse();
        },
      );
    }, ttlMs / 3);
    renew.unref();
    return {
      id: row.id,
      lost: lost.signal,
      release: async () => {
        clearInterval(renew);
        await prisma.$executeRaw`DELETE FROM "ContentHold" WHERE "id" = ${row.id}::uuid`;
      },
    };
  }

  /** Runs `work` under a new hold, released however it ends. */
  async during<T>(holder: string, work: (hold: ContentHold) => Promise<T>): Promise<T> {
    const hold = await this.acquire(holder);
    try {
      return await work(hold);
    } finally {
      await hold.release().catch(() => undefined);
    }
  }
}
