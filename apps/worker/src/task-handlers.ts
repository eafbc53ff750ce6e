import type { TaskHandlers } from '@cistern/queue';
import type { Resources } from '@cistern/runtime';
import { contentTaskHandlers } from '@cistern/content';
import { syncTaskHandler } from '@cistern/sync';

/** Every task kind this worker runs. */
export function taskHandlers(resources: Resources): TaskHandlers {
  return {
    sync: syncTaskHandler({
      prisma: resources.db.prisma,
      storage: resources.storage,
      secretKey: resources.secretKey,
      maxManifestBytes: resources.config.manifestMaxBytes,
    }),
    ...contentTaskHandlers(resources.db.prisma),
  };
}
