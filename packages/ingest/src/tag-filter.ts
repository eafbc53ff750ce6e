import { isDigest } from '@cistern/oci';
import picomatch from 'picomatch';

export interface TagFilter {
  /** Whether a tag the upstream lists is to be synced. */
  matches(tag: string): boolean;
  /** Digests named in `includes`: synced exactly, whatever the tags say. */
  digests: string[];
}

/**
 * `includes` / `excludes` hold tag globs (`*`, `?`) and exact digests. An empty
 * `includes` means every tag; an exclude always wins.
 */
export function createTagFilter(includes: readonly string[], excludes: readonly string[]): TagFilter {
  const includeGlobs = includes.filter((p) => !isDigest(p));
  const digests = includes.filter(isDigest);
  const included = includeGlobs.length > 0 ? picomatch(includeGlobs, { dot: true }) : includes.length === 0 ? () => true : () => false;
  const excludeGlobs = excludes.filter((p) => !isDigest(p));
  const excluded = excludeGlobs.length > 0 ? picomatch(excludeGlobs, { dot: true }) : () => false;
  return {
    matches: (tag) => included(tag) && !excluded(tag),
    digests: digests.filter((d) => !excludes.includes(d)),
  };
}
