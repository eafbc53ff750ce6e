import { loadConfig } from '@cistern/config';
import { openResources, runMain } from '@cistern/runtime';
import { startApi } from './start-api.ts';

await runMain('api', async () => {
  const config = loadConfig();
  const resources = await openResources(config, { allInOne: false });
  const api = await startApi(resources);
  return { logger: resources.logger, closers: [resources.close, api.close], shutdownTimeoutMs: config.shutdownTimeoutMs };
});
