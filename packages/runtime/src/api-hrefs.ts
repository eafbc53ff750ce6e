// The management API's URL layout, in the one place both the API (which serves
// it) and the worker (whose tasks name what they created by it) can read.

/** Where the management API is mounted. */
export const API_PREFIX = '/api/v1';

/** The href of one resource of a collection, e.g. `/api/v1/remotes/<id>`. */
export const hrefOf = (collection: string, id: string): string => `${API_PREFIX}/${collection}/${id}`;

/** The href of a sync dry-run's plan entries, linked from its task's `result`. */
export function syncPlanHref(taskId: string): string {
  return `${hrefOf('tasks', taskId)}/plan`;
}

/** The href of a repository version: what a task that wrote one names in `createdResources`. */
export function repositoryVersionHref(repositoryId: string, version: number): string {
  return `${hrefOf('repositories', repositoryId)}/versions/${version}`;
}
