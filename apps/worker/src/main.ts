import { loadConfig } from '@cistern/config';
import { openResources, runMain, sweepTemporaryAtStart } from '@cistern/runtime';
import { startWorker } from './start-worker.ts';
import { taskRunners } from './task-runners.ts';

await runMain('worker', async () => {
  const config = loadConfig();
  const resources = await openResources(config, { allInOne: false });
  await sweepTemporaryAtStart(resources);
  const worker = await startWorker(resources, { tasks: taskRunners(resources) });
  return { logger: resources.logger, closers: [resources.close, worker.close], shutdownTimeoutMs: config.shutdownTimeoutMs };
});
