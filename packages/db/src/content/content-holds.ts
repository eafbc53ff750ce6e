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
    const renew = setInterval(() => {
      // A failed renewal is retried at the next tick; past the TTL the hold protects nothing, and a
      // version written after that still cannot reference a deleted row (foreign keys).
      prisma.$executeRaw`UPDATE "ContentHold" SET "expiresAt" = CURRENT_TIMESTAMP + make_interval(secs => ${ttlMs / 1000}) WHERE "id" = ${row.id}::uuid`.catch(
        () => undefined,
      );
    }, ttlMs / 3);
    renew.unref();
    return {
      id: row.id,
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
