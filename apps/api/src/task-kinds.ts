import { contentTasks } from '@cistern/content';
import { syncTask } from '@cistern/sync';

/**
 * The kinds of task the API creates, as their packages define them: their
 * schemas check params and shape request bodies. The worker runs the same ones.
 */
export const apiTaskKinds = [syncTask, ...contentTasks] as const;

/** One of the kinds the API creates. */
export type ApiTaskKind = (typeof apiTaskKinds)[number];
