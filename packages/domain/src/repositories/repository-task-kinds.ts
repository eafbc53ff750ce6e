import { contentTasks } from '@cistern/content-actions';
import { syncTask } from '@cistern/sync';

/**
 * The kinds of task that change a repository, as their packages define them:
 * their schemas check params and shape the API's request bodies. The worker
 * runs the same definitions.
 */
export const repositoryTaskKinds = [syncTask, ...contentTasks] as const;

/** One of the kinds a repository's tasks are. */
export type RepositoryTaskKind = (typeof repositoryTaskKinds)[number];

/** The content actions: each writes one new version of the repository. */
export type ContentAction = Exclude<RepositoryTaskKind['name'], 'sync'>;
