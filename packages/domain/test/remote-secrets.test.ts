import { openSecret } from '@cistern/config';
import type { Database } from '@cistern/db';
import { isCisternError } from '@cistern/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteInput } from '../src/remotes/remote-input.ts';
import { remoteService } from '../src/remotes/remote-service.ts';
import { testDatabase } from './database.ts';

const secretKey = Buffer.alloc(32, 7);
let db: Database;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ db, cleanup } = await testDatabase());
});
afterAll(() => cleanup());

describe('remote secrets', () => {
  it('refuses to leave a stored password without its user name, naming the field', async () => {
    const remotes = remoteService({ prisma: db.prisma, secretKey });
    const created = await remotes.create(
      RemoteInput.parse({ name: 'hub', url: 'https://docker.io/', upstreamName: 'nginx', username: 'bob', password: 's3cret' }),
    );
    expect(created).toMatchObject({ url: 'https://docker.io', upstreamName: 'library/nginx', passwordSet: true });
    expect(created).not.toHaveProperty('passwordEncrypted');
    const stored = await db.prisma.remote.findUniqueOrThrow({ where: { id: created.id } });
    expect(openSecret(secretKey, stored.passwordEncrypted as string)).toBe('s3cret');

    const refused = await remotes.update(created.id, { username: null }).catch((error: unknown) => error);
    expect(isCisternError(refused, 'VALIDATION_FAILED')).toBe(true);
    expect((refused as { detail: unknown }).detail).toEqual([{ path: 'username', message: 'a password needs a username' }]);
    expect(await remotes.update(created.id, { username: null, password: null })).toMatchObject({ username: null, passwordSet: false });
  });
});
