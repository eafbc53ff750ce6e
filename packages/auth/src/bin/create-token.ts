#!/usr/bin/env node
// `cistern-token create --name ci --scope admin` (the bundle dist/cistern-token.js; in the
// image, `docker compose run --rm api cistern-token create …`), or from source
// `npm run token:create -w @cistern/auth -- --name ci --scope admin`.
// Creates an API token and prints its secret once. Needs DATABASE_URL: the
// embedded database belongs to the running `npm start`, so with it use
// CISTERN_ADMIN_TOKEN and POST /api/v1/tokens instead.
import { parseArgs } from 'node:util';
import { loadConfig } from '@cistern/config';
import { openDatabase, Prisma } from '@cistern/db';
import { TokenService } from '../token-service.ts';

const USAGE =
  'usage: cistern-token create --name <name> --scope admin|pull [--distribution <id>]... [--base-path <name>|<name>/*]... [--all-distributions] [--expires <ISO date>]';

function fail(message: string): never {
  console.error(`cistern-token: ${message}\n${USAGE}`);
  process.exit(2);
}

let args;
let positionals;
try {
  ({ values: args, positionals } = parseArgs({
    options: {
      name: { type: 'string' },
      scope: { type: 'string' },
      distribution: { type: 'string', multiple: true },
      'base-path': { type: 'string', multiple: true },
      'all-distributions': { type: 'boolean' },
      expires: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  }));
} catch (error) {
  fail((error as Error).message);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals.length === 0) fail('give a command: create');
if (positionals.length !== 1 || positionals[0] !== 'create') fail(`unknown command ${positionals.join(' ')}: the command is create`);
const { name, scope, expires } = args;
if (!name) fail('--name is required');
if (scope !== 'admin' && scope !== 'pull') fail('--scope must be admin or pull');
const expiresAt = expires === undefined ? null : new Date(expires);
if (expiresAt && Number.isNaN(expiresAt.getTime())) fail(`--expires ${expires} is not a date`);
if (expiresAt && expiresAt.getTime() <= Date.now()) fail(`--expires ${expires} is in the past: the token would never work`);

let db;
try {
  const config = loadConfig();
  db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, allowEmbedded: false });
} catch (error) {
  console.error(`cistern-token: ${(error as Error).message}`);
  process.exit(1);
}
try {
  const { token, secret } = await new TokenService(db.prisma).create({
    name,
    scope,
    allDistributions: args['all-distributions'] ?? false,
    distributionIds: args.distribution ?? [],
    basePaths: args['base-path'] ?? [],
    expiresAt,
  });
  console.error(`created ${token.scope} token "${token.name}" (${token.id}); the secret below is shown only now:`);
  console.log(secret);
} catch (error) {
  const taken = error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
  console.error(`cistern-token: ${taken ? `a token named "${name}" already exists; choose another --name` : (error as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.close();
}
