import { MediaType, parseManifest, referrersTagFor } from '@cistern/oci';
import { header, readLimited } from './body.ts';
import type { OperationContext } from './context.ts';
import { UpstreamError, displayUrl, isUpstreamError } from './errors.ts';
import { getManifest } from './manifests.ts';
import { pages } from './pages.ts';

export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Readonly<Record<string, string>>;
}

export interface ListReferrersOptions {
  artifactType?: string;
  /**
   * The upstream's tags, when the caller has listed them: the tag-schema fallback
   * then fetches `<alg>-<hex>` only if it exists, instead of a GET that 404s.
   */
  knownTags?: ReadonlySet<string>;
  /** The caller already saw this upstream answer 404 to the Referrers API: go straight to the tag schema. */
  skipApi?: boolean;
}

export interface Referrers {
  /** `api`: the Referrers API answered; `tag`: the `<alg>-<hex>` tag schema (the API answered 404). */
  source: 'api' | 'tag';
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
 * The manifests whose `subject` is `digest`: the Referrers API first (every
 * `Link` page), and the tag schema only when the API answers 404. Any other
 * failure is an error, never "no referrers".
 */
export async function listReferrers(ctx: OperationContext, digest: string, options: ListReferrersOptions = {}): Promise<Referrers> {
  const { artifactType, knownTags } = options;
  if (options.skipApi) return fromTagSchema(ctx, digest, knownTags);
  const first = new URL(`${ctx.base}/referrers/${digest}`);
  if (artifactType) first.searchParams.set('artifactType', artifactType);
  const manifests: ReferrerDescriptor[] = [];
  let filtersApplied = false;
  for await (const page of pages(ctx, first, 'referrers', MediaType.OciIndex, [404])) {
    const bytes = await readLimited(page.body, ctx.maxPageBytes, displayUrl(page.url));
    if (page.status === 404) return fromTagSchema(ctx, digest, knownTags);
    filtersApplied ||= (header(page.headers, 'oci-filters-applied') ?? '').includes('artifactType');
    manifests.push(...entriesOf(bytes, displayUrl(first)));
  }
  return { source: 'api', manifests, filtersApplied };
}

async function fromTagSchema(ctx: OperationContext, digest: string, knownTags: ReadonlySet<string> | undefined): Promise<Referrers> {
  const tag = referrersTagFor(digest);
  if (knownTags && !knownTags.has(tag)) return { source: 'tag', manifests: [], filtersApplied: false };
  try {
    const fetched = await getManifest(ctx, tag);
    return { source: 'tag', manifests: entriesOf(fetched.bytes, `${ctx.base}/manifests/${tag}`), filtersApplied: false };
  } catch (error) {
    if (isUpstreamError(error, 'MANIFEST_UNKNOWN', 'NAME_UNKNOWN')) {
      return { source: 'tag', manifests: [], filtersApplied: false };
    }
    throw error;
  }
}
