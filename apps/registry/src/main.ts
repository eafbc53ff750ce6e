import { loadConfig } from '@cistern/config';
import { openResources, runMain, sweepTemporaryAtStart } from '@cistern/runtime';
import { startRegistry } from './start-registry.ts';

await runMain('registry', async () => {
  const config = loadConfig();
  const resources = await openResources(config, { allInOne: false });
  await sweepTemporaryAtStart(resources);
  const registry = await startRegistry(resources);
  return { logger: resources.logger, closers: [resources.close, registry.close], shutdownTimeoutMs: config.shutdownTimeoutMs };
});
