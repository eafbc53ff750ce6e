import { contentTasks } from '@cistern/content-actions';
import type { TaskRunner } from '@cistern/queue';
import { repositoryVersionHref, syncPlanHref, type Resources } from '@cistern/runtime';
import { orphanCleanupTask, reclaimSpaceTask } from '@cistern/storage-lifecycle';
import { syncTask } from '@cistern/sync';

/**
 * Every task kind this worker runs, each bound to what its handler needs from
 * the process; tasks name the versions they write by the API's hrefs.
 */
export function taskRunners(resources: Resources): TaskRunner[] {
  const shared = { prisma: resources.db.prisma, versionHref: repositoryVersionHref };
  const storage = { prisma: resources.db.prisma, storage: resources.storage };
  return [
    syncTask.bind({
      ...shared,
      storage: resources.storage,
      secretKey: resources.secretKey,
      maxManifestBytes: resources.config.manifestMaxBytes,
      planHref: syncPlanHref,
    }),
    ...contentTasks.map((task) => task.bind(shared)),
    orphanCleanupTask.bind(storage),
    reclaimSpaceTask.bind(storage),
  ];
}
