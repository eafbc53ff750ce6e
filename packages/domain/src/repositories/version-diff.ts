import {
  blobDiff,
  diffTotals,
  manifestDiff,
  tagDiff,
  type BlobDiffRow,
  type DiffTotals,
  type ManifestDiffRow,
  type PrismaClient,
  type TagDiffRow,
} from '@cistern/db';
import { z } from 'zod';
import { findVersion } from './find-version.ts';

/** The kinds of content a diff lists, in the order its pages walk them. */
const DIFF_TYPES = ['tag', 'manifest', 'blob'] as const;
type DiffType = (typeof DIFF_TYPES)[number];

/** One change: a tag added, removed or moved; a manifest or blob added or removed. */
export type DiffChange = ({ type: 'tag' } & TagDiffRow) | ({ type: 'manifest' } & ManifestDiffRow) | ({ type: 'blob' } & BlobDiffRow);

/** Where a page of a diff starts: after the change of this type and key (a tag's name, a manifest's or blob's digest). */
export interface DiffCursor {
  type: DiffType;
  key: string;
}

/** A cursor as text, `<type>:<key>` (what the `next` of a page carries). */
export const cursorText = (cursor: DiffCursor) => `${cursor.type}:${cursor.key}`;

/** `<type>:<key>`, the key free of spaces and control characters (PostgreSQL text cannot hold NUL). */
const CURSOR_PATTERN = /^(tag|manifest|blob):[^\s\p{Cc}]+$/u;

/** A cursor given as text, `<type>:<key>`. */
export const DiffCursorText = z
  .string()
  .max(300)
  .regex(CURSOR_PATTERN, 'must be the `after` of a previous page, e.g. tag:latest')
  // zod-to-openapi writes a pattern with its flags ("…$/u"): the document gets the source alone.
  .meta({ pattern: CURSOR_PATTERN.source })
  .transform((text): DiffCursor => {
    const colon = text.indexOf(':');
    return { type: text.slice(0, colon) as DiffType, key: text.slice(colon + 1) };
  });

/** Which diff, and which page of it. */
export interface DiffRequest {
  /** The version compared against; default: the newest version older than the one asked for (itself for version 0). */
  base?: number;
  after?: DiffCursor;
  /** At most this many changes. */
  limit: number;
}

/** One page of the changes from `base` to `version`: tags first (by name), then manifests and blobs (by digest). */
export interface VersionDiff {
  repositoryId: string;
  version: number;
  base: number;
  /** Over the whole diff, on its first page only (null on the pages after): it costs a pass over every change. */
  summary: DiffTotals | null;
  changes: DiffChange[];
  /** Where the next page starts; null on the last page. */
  next: DiffCursor | null;
}

const keyOf = (change: DiffChange) => (change.type === 'tag' ? change.name : change.digest);

/** The version compared against when none is given: the newest one older than `number` still stored. */
async function defaultBase(prisma: PrismaClient, repositoryId: string, number: number): Promise<number> {
  const older = await prisma.repositoryVersion.findFirst({ where: { repositoryId, number: { lt: number } }, orderBy: { number: 'desc' } });
  return older?.number ?? number;
}

/**
 * The changes from version `base` to version `number` of a repository, any
 * two versions (base above number lists what going back would change).
 * Computed in the database page by page, so memory stays flat whatever the
 * versions hold. NOT_FOUND for an unknown repository, VERSION_UNKNOWN (detail
 * path `base` for the base) for a version never written or pruned.
 */
export async function versionDiff(prisma: PrismaClient, repositoryId: string, number: number, request: DiffRequest): Promise<VersionDiff> {
  const version = await findVersion(prisma, repositoryId, number);
  const base = request.base === undefined ? await defaultBase(prisma, version.repositoryId, number) : request.base;
  if (request.base !== undefined) await findVersion(prisma, version.repositoryId, base, 'base');
  const pair = { repositoryId: version.repositoryId, version: number, base };
  const want = request.limit + 1;
  const changes: DiffChange[] = [];
  const start = request.after ? DIFF_TYPES.indexOf(request.after.type) : 0;
  for (const type of DIFF_TYPES.slice(start)) {
    const page = { after: type === request.after?.type ? request.after.key : null, limit: want - changes.length };
    if (type === 'tag') changes.push(...(await tagDiff(prisma, pair, page)).map((row) => ({ type, ...row })));
    if (type === 'manifest') changes.push(...(await manifestDiff(prisma, pair, page)).map((row) => ({ type, ...row })));
    if (type === 'blob') changes.push(...(await blobDiff(prisma, pair, page)).map((row) => ({ type, ...row })));
    if (changes.length === want) break;
  }
  const shown = changes.slice(0, request.limit);
  const last = shown.at(-1);
  const next = changes.length > request.limit && last ? { type: last.type, key: keyOf(last) } : null;
  return { repositoryId: version.repositoryId, version: number, base, summary: request.after ? null : await diffTotals(prisma, pair), changes: shown, next };
}
