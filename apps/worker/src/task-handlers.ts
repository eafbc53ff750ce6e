import type { TaskHandlers } from '@cistern/queue';
import type { Resources } from '@cistern/runtime';

/** Every task kind this worker runs. The sync handler arrives with issue #6. */
export function taskHandlers(_resources: Resources): TaskHandlers {
  return {};
}
