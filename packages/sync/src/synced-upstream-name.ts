import { CisternError } from '@cistern/errors';

/**
 * The upstream repository a sync of `repository` from `remote` mirrors: the
 * repository's own (a pull-through cache's, or a namespace sync's child)
 * before the remote's. Throws UPSTREAM_NAME_MISSING, naming the remote, when
 * neither names one. The one rule for the API, which refuses such a sync when
 * it is requested or scheduled, and the task, which meets it when the
 * repository or the remote changed since.
 */
export function syncedUpstreamName(repository: { upstreamName: string | null }, remote: { name: string; upstreamName: string | null }): string {
  const name = repository.upstreamName ?? remote.upstreamName;
  if (name === null) {
    throw new CisternError(
      'UPSTREAM_NAME_MISSING',
      `remote "${remote.name}" serves many upstream repositories and the repository names none to sync: set the repository's upstreamName, or sync from a remote with one`,
    );
  }
  return name;
}
