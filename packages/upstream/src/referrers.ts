import { MediaType, parseManifest } from '@cistern/oci';
import { header, readLimited } from './body.ts';
import type { OperationContext } from './context.ts';
import { UpstreamError, displayUrl } from './errors.ts';
import { pages } from './pages.ts';

/** One entry of a referrers list: a manifest whose `subject` is the digest asked about. */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Readonly<Record<string, string>>;
}

/** Narrows a referrers list. */
export interface ListReferrersOptions {
  /** Only referrers of this artifact type (the upstream may ignore it: see `filtersApplied`). */
  artifactType?: string;
  /** Stop reading pages once more than this many referrers arrived (the answer then holds more than it). */
  maxEntries?: number;
}

/** What the Referrers API said about one subject. */
export interface Referrers {
  /**
   * `api`: the Referrers API answered; `missing`: it answered 404, the upstream
   * has none (no manifests then: reading the `<alg>-<hex>` tag schema instead is the caller's choice).
   */
  source: 'api' | 'missing';
  manifests: ReferrerDescriptor[];
  /** The API applied the `artifactType` filter (`OCI-Filters-Applied`); otherwise filter locally. */
  filtersApplied: boolean;
}

function entriesOf(bytes: Buffer, url: string): ReferrerDescriptor[] {
  let parsed;
  try {
    parsed = parseManifest(bytes, { contentType: MediaType.OciIndex });
  } catch (error) {
    throw new UpstreamError('INVALID_RESPONSE', `the referrers list is not an image index: ${(error as Error).message}`, { url, cause: error });
  }
  if (parsed.kind !== 'oci-index') {
    throw new UpstreamError('INVALID_RESPONSE', `the referrers list is a ${parsed.kind}, not an image index`, { url });
  }
  return parsed.children.map((d) => ({
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.artifactType === undefined ? {} : { artifactType: d.artifactType }),
    ...(d.annotations === undefined ? {} : { annotations: d.annotations }),
  }));
}

/**
 * The manifests whose `subject` is `digest`, from the Referrers API (every
 * `Link` page, up to the page past `maxEntries`); a 404 says the upstream has
 * no such API (`source: 'missing'`).
 * Any other failure is an error, never "no referrers".
 */
export async function listReferrers(ctx: OperationContext, digest: string, options: ListReferrersOptions = {}): Promise<Referrers> {
  const { artifactType } = options;
  const first = new URL(`${ctx.base}/referrers/${digest}`);
  if (artifactType) first.searchParams.set('artifactType', artifactType);
  const manifests: ReferrerDescriptor[] = [];
  let filtersApplied = false;
  for await (const page of pages(ctx, first, 'referrers', MediaType.OciIndex, [404])) {
    const bytes = await readLimited(page.body, ctx.maxPageBytes, displayUrl(page.url));
    if (page.status === 404) return { source: 'missing', manifests: [], filtersApplied: false };
    filtersApplied ||= (header(page.headers, 'oci-filters-applied') ?? '').includes('artifactType');
    manifests.push(...entriesOf(bytes, displayUrl(first)));
    if (options.maxEntries !== undefined && manifests.length > options.maxEntries) break;
  }
  return { source: 'api', manifests, filtersApplied };
}
