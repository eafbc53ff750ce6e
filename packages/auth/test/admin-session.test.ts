import { randomBytes } from 'node:crypto';
import { openDatabase, type Database } from '@cistern/db';
import { createTestDatabase, type TestDatabase } from '@cistern/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminSessions, hashSecret, TokenService } from '../src/index.ts';

const BOOTSTRAP = 'bootstrap-admin-token-for-session-tests-0123';
let testDb: TestDatabase;
let db: Database;
let tokens: TokenService;
let sessions: AdminSessions;
const secretKey = randomBytes(32);

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ databaseUrl: testDb.url, dataDir: '/nonexistent', allowEmbedded: false });
  tokens = new TokenService(db.prisma, BOOTSTRAP);
  sessions = new AdminSessions(tokens, secretKey, 60_000);
});
afterAll(async () => {
  await db?.close();
  await testDb?.drop();
});

function opened(login: Awaited<ReturnType<AdminSessions['open']>>): string {
  if (!login.ok) throw new Error(`login refused: ${login.code}`);
  return login.value;
}

describe('admin sessions', () => {
  it('opens for admin tokens only, and the value holds neither the token nor anything but its hash', async () => {
    const admin = await tokens.create({ name: 'ops', scope: 'admin' });
    const pull = await tokens.create({ name: 'ci-pull', scope: 'pull', allDistributions: true });

    const value = opened(await sessions.open(admin.secret));
    expect(value).not.toContain(admin.secret);
    expect(JSON.parse(Buffer.from(value.split('.')[0] ?? '', 'base64url').toString())).toEqual({ h: hashSecret(admin.secret), exp: expect.any(Number) });
    expect(await sessions.check(value)).toMatchObject({ scope: 'admin', name: 'ops' });
    expect(await sessions.check(opened(await sessions.open(BOOTSTRAP)))).toMatchObject({ scope: 'admin', name: 'CISTERN_ADMIN_TOKEN' });

    expect(await sessions.open(pull.secret)).toMatchObject({ ok: false, code: 'NOT_ADMIN', principal: { name: 'ci-pull' } });
    expect(await sessions.open('cst_not-a-token')).toEqual({ ok: false, code: 'TOKEN_UNKNOWN' });
  });

  it('refuses a forged, altered, foreign or expired value, and ends when the token is revoked', async () => {
    const admin = await tokens.create({ name: 'revoked-later', scope: 'admin' });
    const now = new Date();
    const value = opened(await sessions.open(admin.secret, now));
    const [payload, mac] = value.split('.') as [string, string];

    // A payload naming another token's hash, kept with the original mac.
    const other = Buffer.from(JSON.stringify({ h: hashSecret(BOOTSTRAP), exp: 4102444800 })).toString('base64url');
    expect(await sessions.check(`${other}.${mac}`)).toBeNull();
    expect(await sessions.check(`${payload}.${mac.slice(0, -2)}AA`)).toBeNull();
    expect(await sessions.check(payload)).toBeNull();
    expect(await sessions.check(`${value}.x`)).toBeNull();
    expect(await sessions.check('')).toBeNull();
    // Another installation (another SECRET_KEY) does not accept it.
    expect(await new AdminSessions(tokens, randomBytes(32)).check(value)).toBeNull();
    // The session lasts ttlMs (60 s here).
    expect(await sessions.check(value, new Date(now.getTime() + 59_000))).not.toBeNull();
    expect(await sessions.check(value, new Date(now.getTime() + 61_000))).toBeNull();

    await tokens.revoke(admin.token.id);
    expect(await sessions.check(value, now)).toBeNull();
  });
});
