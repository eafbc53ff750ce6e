import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Database } from '@cistern/db';
import { createTestDatabase, type TestDatabase } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenInputError, TokenService } from '../src/index.ts';

const PACKAGE = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
let testDb: TestDatabase;
let db: Database;
let tokens: TokenService;
let dataDir: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ databaseUrl: testDb.url, dataDir: '/nonexistent', allowEmbedded: false });
  tokens = new TokenService(db.prisma);
  dataDir = await mkdtemp(path.join(tmpdir(), 'cistern-token-'));
});
afterAll(async () => {
  await db?.close();
  await testDb?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

/** `cistern-token` from source, as `npm run token:create` runs it. */
const cli = (...args: string[]) =>
  spawnSync(path.join(PACKAGE, '../../node_modules/.bin/tsx'), ['src/bin/create-token.ts', ...args], {
    cwd: PACKAGE,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: testDb.url, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
  });

describe('token base paths', () => {
  it('are kept on pull tokens and carried by their principal; refused malformed, in excess, or on admin tokens', async () => {
    const { secret } = await tokens.create({ name: 'prefixed', scope: 'pull', basePaths: ['cache/*', 'app'] });
    expect(await tokens.verify(secret)).toMatchObject({ scope: 'pull', allDistributions: false, distributionIds: [], basePaths: ['cache/*', 'app'] });
    const refusals = [
      { name: 'a', scope: 'admin' as const, basePaths: ['cache/*'] },
      { name: 'b', scope: 'pull' as const, basePaths: ['cache/**'] },
      { name: 'c', scope: 'pull' as const, basePaths: Array.from({ length: 101 }, (_, i) => `app${i}`) },
      { name: 'd', scope: 'pull' as const, allDistributions: true, basePaths: ['app'] },
    ];
    for (const input of refusals) await expect(tokens.create(input), input.name).rejects.toBeInstanceOf(TokenInputError);
    expect(await db.prisma.apiToken.count()).toBe(1);
  });

  it('are given to cistern-token with a repeatable --base-path', async () => {
    const created = cli('create', '--name', 'cli-cache', '--scope', 'pull', '--base-path', 'cache/*', '--base-path', 'team/app');
    expect(created.status, created.stderr).toBe(0);
    expect(await tokens.verify(created.stdout.trim())).toMatchObject({ name: 'cli-cache', basePaths: ['cache/*', 'team/app'] });
    const refused = cli('create', '--name', 'cli-bad', '--scope', 'pull', '--base-path', 'Cache/*');
    expect([refused.status, refused.stderr.trim()]).toEqual([
      1,
      'cistern-token: base path "Cache/*" must be a repository name (that name only) or a prefix <name>/* (every name below <name>/)',
    ]);
  });
});
