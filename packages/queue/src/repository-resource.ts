/** The lock and deduplication key of a task that changes a repository. */
export function repositoryResource(repositoryId: string): string {
  return `repository:${repositoryId}`;
}
