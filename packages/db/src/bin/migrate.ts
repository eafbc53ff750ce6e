// `npm run migrate`: apply pending migrations and exit (the apps also do this at start).
import { loadConfig } from '@cistern/config';
import { openDatabase } from '../database.ts';

try {
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, allowEmbedded: true });
  const { applied, alreadyApplied } = db.migrations;
  console.log(`applied ${applied.length} migration(s)${applied.length ? `: ${applied.join(', ')}` : ''}; ${alreadyApplied.length} already applied`);
  await db.close();
} catch (error) {
  console.error(`cistern migrate: ${(error as Error).message}`);
  process.exitCode = 1;
}
