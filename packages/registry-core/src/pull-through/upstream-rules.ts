import type { Remote } from '@cistern/db';
import { createTagFilter, type TagFilter } from '@cistern/ingest';
import { normalizeUpstream, repositoryMatcher } from '@cistern/oci';
import { RegistryError } from '../errors/registry-error.ts';

/** What a pull-through remote lets through: which upstream repositories, and which tags of them. */
export interface UpstreamRules {
  /** The remote's `includes` / `excludes` (tag globs and digests), as a sync applies them. */
  readonly tags: TagFilter;
  /** Rejects with DENIED naming the rule when the remote does not serve `upstreamName` (as normalized: `library/alpine`). */
  assertRepository(upstreamName: string, asked: string): void;
  /** Rejects with DENIED naming the rule when the filters exclude `reference` (a tag, or a digest named in `excludes`). */
  assertReference(reference: string, isTagReference: boolean): void;
}

/**
 * The rules of one remote. `upstreamRepositories` (names and globs) decides
 * which upstream repositories it serves, matched against the name as asked
 * and as normalized (Docker Hub's `library/`); left empty, a remote with an
 * `upstreamName` serves only that one, and one without serves any.
 */
export function upstreamRules(remote: Pick<Remote, 'name' | 'url' | 'upstreamName' | 'upstreamRepositories' | 'includes' | 'excludes'>): UpstreamRules {
  const tags = createTagFilter(remote.includes, remote.excludes);
  const matcher = remote.upstreamRepositories.length > 0 ? repositoryMatcher(remote.upstreamRepositories) : undefined;
  const only = remote.upstreamName === null ? undefined : normalizeUpstream(remote.url, remote.upstreamName).name;
  return {
    tags,
    assertRepository(upstreamName, asked) {
      if (matcher) {
        if (matcher(upstreamName) !== undefined || matcher(asked) !== undefined) return;
        throw denied(`upstream repository ${upstreamName} is outside the upstreamRepositories of remote "${remote.name}"`, {
          upstreamName,
          rule: 'upstreamRepositories',
          upstreamRepositories: remote.upstreamRepositories,
        });
      }
      if (only === undefined || only === upstreamName) return;
      throw denied(`remote "${remote.name}" serves only the upstream repository ${only} (its upstreamName)`, { upstreamName, rule: 'upstreamName' });
    },
    assertReference(reference, isTagReference) {
      if (isTagReference ? tags.matches(reference) : !remote.excludes.includes(reference)) return;
      throw denied(`${isTagReference ? 'tag' : 'digest'} ${reference} is excluded by the includes/excludes of remote "${remote.name}"`, {
        reference,
        rule: 'includes/excludes',
        includes: remote.includes,
        excludes: remote.excludes,
      });
    },
  };
}

function denied(message: string, detail: Record<string, unknown>): RegistryError {
  return new RegistryError('DENIED', `requested access to the resource is denied: ${message}`, { detail });
}
