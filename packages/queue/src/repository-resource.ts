const PREFIX = 'repository:';

/** The lock and deduplication key of a task that changes a repository. */
export function repositoryResource(repositoryId: string): string {
  return `${PREFIX}${repositoryId}`;
}

/** A task's resource for its log lines: `repositoryId` when it is a repository's, else the resource as it is. */
export function resourceFields(resource: string | null): { repositoryId: string } | { resource: string } | Record<string, never> {
  if (resource === null) return {};
  return resource.startsWith(PREFIX) ? { repositoryId: resource.slice(PREFIX.length) } : { resource };
}
