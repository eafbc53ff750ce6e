import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTestDatabase, makeTempDir, removeDir, type TestDatabase } from '@cistern/testkit';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './processes.ts';

// The two steps of the README's "Docker Compose": .env gives compose the first admin token,
// and the image's `cistern-token` (the bundle dist/cistern-token.js) creates more.

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('compose');
  db = await createTestDatabase();
  // The build's own step for the bundle, so what runs below is what `npm run build` ships.
  const build = spawnSync('npm', ['run', 'build:token'], { cwd: ROOT, encoding: 'utf8' });
  expect(build.status, build.stderr).toBe(0);
});
afterAll(async () => {
  await db?.drop();
  await removeDir(dir);
});

/** docker-compose (Debian's) on the repository's compose file, with only PATH from this environment. */
function composeConfig(envFile: string, options: string[] = []) {
  return spawnSync('docker-compose', [...options, '-f', path.join(ROOT, 'docker-compose.yml'), '--env-file', envFile, 'config'], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
  });
}

describe('docker compose: the first admin token', () => {
  it('passes CISTERN_ADMIN_TOKEN from .env to the api, worker and registry, and refuses to start without one', async () => {
    const token = createHash('sha256').update(dir).digest('hex');
    await writeFile(path.join(dir, '.env'), `CISTERN_ADMIN_TOKEN=${token}\n`);
    const config = composeConfig(path.join(dir, '.env'));
    expect(config.status, config.stderr).toBe(0);
    expect(config.stdout.split('\n').filter((line) => line.trim() === `CISTERN_ADMIN_TOKEN: ${token}`)).toHaveLength(3);

    // .env.example as it is has no token: compose says where to set one.
    await copyFile(path.join(ROOT, '.env.example'), path.join(dir, 'example.env'));
    const unset = composeConfig(path.join(dir, 'example.env'));
    expect(unset.status).not.toBe(0);
    expect(unset.stderr).toContain('set CISTERN_ADMIN_TOKEN in .env, see .env.example');
  });

  it('validates the monitoring profile: Prometheus and Grafana on files that exist, and METRICS_TOKEN from .env to every scraper and scraped', async () => {
    const metricsToken = createHash('sha256').update(`${dir}/metrics`).digest('hex');
    await writeFile(path.join(dir, 'monitoring.env'), `CISTERN_ADMIN_TOKEN=${'a'.repeat(40)}\nMETRICS_TOKEN=${metricsToken}\n`);
    const config = composeConfig(path.join(dir, 'monitoring.env'), ['--profile', 'monitoring']);
    expect(config.status, config.stderr).toBe(0);
    const services = (
      parseYaml(config.stdout) as { services: Record<string, { profiles?: string[]; environment?: Record<string, string>; volumes?: string[] }> }
    ).services;
    expect(services.prometheus?.profiles).toEqual(['monitoring']);
    expect(services.grafana?.profiles).toEqual(['monitoring']);
    for (const name of ['api', 'worker', 'registry', 'prometheus']) expect(services[name]?.environment?.METRICS_TOKEN, name).toBe(metricsToken);
    // Every file or directory mounted from the repository is there (docker would create an empty directory instead).
    const mounted = ['prometheus', 'grafana'].flatMap((name) => services[name]?.volumes ?? []).filter((v) => v.startsWith('/'));
    expect(mounted.length).toBe(4);
    for (const volume of mounted) await expect(stat(volume.split(':')[0] ?? '')).resolves.toBeTruthy();
  });

  it('creates a token with the bundled cistern-token, called by that name as the image links it', async () => {
    expect((await stat(path.join(ROOT, 'dist', 'cistern-token.js'))).mode & 0o111, 'executable').not.toBe(0);
    const bin = path.join(dir, 'bin');
    await mkdir(bin);
    await symlink(path.join(ROOT, 'dist', 'cistern-token.js'), path.join(bin, 'cistern-token'));
    const run = (...args: string[]) =>
      spawnSync('cistern-token', args, {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: `${bin}:${process.env.PATH ?? ''}`, DATABASE_URL: db.url, DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'silent' },
      });

    const created = run('create', '--name', 'ci', '--scope', 'admin');
    expect(created.status, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/^created admin token "ci" \([0-9a-f-]{36}\); the secret below is shown only now:/);
    const secret = created.stdout.trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ scope: string; secretHash: string }>('SELECT scope, "secretHash" FROM "ApiToken" WHERE name = $1', ['ci']);
      expect(rows).toEqual([{ scope: 'admin', secretHash: createHash('sha256').update(secret).digest('hex') }]);
    } finally {
      await client.end();
    }

    const firstLine = (r: ReturnType<typeof run>) => [r.status, r.stderr.split('\n')[0]];
    expect(firstLine(run('list'))).toEqual([2, 'cistern-token: unknown command list: the command is create']);
    expect(firstLine(run())).toEqual([2, 'cistern-token: give a command: create']);
    expect(firstLine(run('create', '--scope', 'admin'))).toEqual([2, 'cistern-token: --name is required']);
    expect(firstLine(run('create', '--name', 'old', '--scope', 'admin', '--expires', '2000-01-01'))).toEqual([
      2,
      'cistern-token: --expires 2000-01-01 is in the past: the token would never work',
    ]);
    const help = run('--help');
    expect([help.status, help.stdout]).toEqual([0, expect.stringMatching(/^usage: cistern-token create --name <name>/)]);
    // A name taken, and no database to use: one line each, no stack trace.
    const again = run('create', '--name', 'ci', '--scope', 'admin');
    expect([again.status, again.stderr]).toEqual([1, 'cistern-token: a token named "ci" already exists; choose another --name\n']);
    const embedded = spawnSync('cistern-token', ['create', '--name', 'x', '--scope', 'admin'], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: `${bin}:${process.env.PATH ?? ''}`, DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'silent' },
    });
    expect(embedded.status).toBe(1);
    expect(embedded.stderr.trim().split('\n')).toHaveLength(1);
    expect(embedded.stderr).toMatch(/^cistern-token: DATABASE_URL is not set/);
  });
});
