// `npm start`: API, worker and registry in one process, on the embedded
// database when DATABASE_URL is not set. Apps never import each other; this
// launcher is the one place that composes them.
import { startApi } from '@cistern/api';
import { loadConfig } from '@cistern/config';
import { startRegistry } from '@cistern/registry';
import { openResources, runMain, sweepTemporaryAtStart } from '@cistern/runtime';
import { startWorker, taskRunners } from '@cistern/worker';

await runMain('start', async () => {
  const startedAt = performance.now();
  const config = loadConfig();
  const resources = await openResources(config, { allInOne: true });
  const closers = [resources.close];
  try {
    await sweepTemporaryAtStart(resources);
    const worker = await startWorker(resources, { tasks: taskRunners(resources) });
    closers.push(worker.close);
    const api = await startApi(resources);
    closers.push(api.close);
    const registry = await startRegistry(resources);
    closers.push(registry.close);
    resources.logger.info(
      { api: api.url, registry: registry.url, worker: worker.url, database: resources.db.kind, startupMs: Math.round(performance.now() - startedAt) },
      'Cistern is up',
    );
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
  return { logger: resources.logger, closers, shutdownTimeoutMs: config.shutdownTimeoutMs };
});
