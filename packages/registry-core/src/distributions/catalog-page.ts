import { reachesBelow } from '@cistern/auth';
import type { Caller, ReadTarget } from '../auth/registry-auth.ts';
import { grantedBelow } from '../auth/pull-tokens.ts';
import { pageSize, type Page, type PageRequest } from '../versions/paging.ts';
import { byteOrder } from '../versions/version-snapshot.ts';
import { longestPrefix, type DistributionDirectory, type ServedDistribution } from './distribution-directory.ts';

/** What the catalog lists to whom: RegistryAuth's check. */
export interface ReadCheck {
  mayList(target: ReadTarget, caller: Caller): boolean;
}

/** Cache names read from the database at a time, per pull-through distribution. */
const BATCH = 1000;

/**
 * One page of `GET /v2/_catalog`: every pullable repository name the caller
 * may read, in byte order after `last`. A distribution of a repository is its
 * base path; a pull-through distribution's bare base path is no repository,
 * so it stands for its cache repositories, `<basePath>/<upstreamName>`, read
 * from the database in batches (never all at once). A name another
 * distribution would serve instead (an exact base path, a longer pull-through
 * prefix) is listed once, as that one's. A private pull-through distribution
 * lists the cached names the caller's token grants, or, given a catalog
 * grant, those its API token reaches.
 */
export async function catalogPage(directory: DistributionDirectory, auth: ReadCheck, caller: Caller, request: PageRequest): Promise<Page<string>> {
  const size = pageSize(request.n);
  const last = request.last ?? '';
  const all = await directory.list();
  const exact = new Set(all.map((d) => d.basePath));
  const plain = all
    .filter((d) => !d.pullThrough && d.basePath > last && auth.mayList({ distribution: d, name: d.basePath }, caller))
    .map((d) => d.basePath)
    .sort(byteOrder);
  const heads = [new Head(fromList(plain))];
  for (const d of all) {
    if (!d.pullThrough) continue;
    // Served here: not an exact base path, and no longer pull-through prefix takes it.
    const served = (name: string) => !exact.has(name) && longestPrefix(all, name) === d && auth.mayList({ distribution: d, name }, caller);
    heads.push(new Head(filter(cachedNames(directory, d, caller, last), served)));
  }
  const items: string[] = [];
  while (items.length < size) {
    const next = await smallest(heads);
    if (!next) break;
    items.push(next.take());
  }
  const more = size > 0 && (await smallest(heads)) !== undefined;
  return { items, next: more ? items[items.length - 1] : undefined };
}

/**
 * The names of a pull-through distribution's cache repositories after
 * `last`, in byte order: from the database in batches (the caller's reach
 * filters a private one's); for a private one and a token whose reach does
 * not reach into it, only those the token names (a bounded list).
 */
async function* cachedNames(directory: DistributionDirectory, d: ServedDistribution, caller: Caller, last: string): AsyncGenerator<string> {
  const prefix = `${d.basePath}/`;
  let after = afterIn(prefix, last);
  if (after === null) return;
  // Without a reach into it (any token with a catalog grant has one) only the names the token grants can be listed: a bounded list, read as such.
  const { reach } = caller;
  if (d.private && !(reach && reachesBelow(reach, d.id, prefix))) {
    const among = caller.claims ? grantedBelow(caller.claims, prefix, 'pull').map((name) => name.slice(prefix.length)) : [];
    if (among.length === 0) return;
    for (const name of await directory.cachedNames(d.id, { after, limit: among.length, among })) yield prefix + name;
    return;
  }
  for (;;) {
    const batch = await directory.cachedNames(d.id, { after, limit: BATCH });
    for (const name of batch) yield prefix + name;
    if (batch.length < BATCH) return;
    after = batch[batch.length - 1] as string;
  }
}

/**
 * Where in the names below `prefix` a page after `last` starts: after the
 * rest of `last` when `last` is below `prefix`; at the start when `last`
 * sorts before every name below it; null when it sorts after all of them.
 */
function afterIn(prefix: string, last: string): string | null {
  if (last.startsWith(prefix)) return last.slice(prefix.length);
  return last < prefix ? '' : null;
}

async function* fromList(names: readonly string[]): AsyncGenerator<string> {
  yield* names;
}

async function* filter(names: AsyncIterable<string>, keep: (name: string) => boolean): AsyncGenerator<string> {
  for await (const name of names) if (keep(name)) yield name;
}

/** The head of a sorted name stream, read one ahead for the merge. */
class Head {
  private current: IteratorResult<string> | undefined;

  constructor(private readonly names: AsyncIterator<string>) {}

  async peek(): Promise<string | undefined> {
    this.current ??= await this.names.next();
    return this.current.done ? undefined : this.current.value;
  }

  take(): string {
    const value = this.current?.value as string;
    this.current = undefined;
    return value;
  }
}

/** The stream whose next name is the smallest (no name is in two streams: each is listed only by the distribution that serves it). */
async function smallest(heads: readonly Head[]): Promise<Head | undefined> {
  let least: { head: Head; name: string } | undefined;
  for (const head of heads) {
    const name = await head.peek();
    if (name !== undefined && (least === undefined || name < least.name)) least = { head, name };
  }
  return least?.head;
}
