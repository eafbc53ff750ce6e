import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '@cistern/config';
import { FilesystemBlobStore } from '@cistern/storage';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweepTemporaryAtStart } from '../src/sweep-temporary.ts';

/** A logger at debug level whose lines are kept, parsed. */
function recordingLogger(): { logger: pino.Logger; lines: { level: number; msg: string; files?: number; bytes?: number }[] } {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

describe('the sweep at start', () => {
  let dir: string;
  let storage: FilesystemBlobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cistern-sweep-'));
    storage = new FilesystemBlobStore(join(dir, 'storage'));
  });
  afterEach(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('removes what is older than ORPHAN_PROTECTION_MINUTES and says so in one info line', async () => {
    const tmp = join(storage.root, 'tmp');
    await mkdir(tmp, { recursive: true });
    const old = new Date(Date.now() - 3 * 60_000);
    for (const date of [old, new Date()]) {
      // A partial file of an owner with no heartbeat: a killed process's.
      const path = join(tmp, `dead0000dead.0123456789abcdef.${randomUUID()}`);
      await writeFile(path, Buffer.alloc(1000));
      await utimes(path, date, date);
    }
    const { logger, lines } = recordingLogger();

    await sweepTemporaryAtStart({ storage, logger, config: loadConfig({ ORPHAN_PROTECTION_MINUTES: '2' }) });

    expect(lines).toEqual([expect.objectContaining({ level: 30, files: 1, bytes: 1000 })]);
    expect(await storage.temporaryUsage()).toEqual({ files: 1, bytes: 1000 });
  });

  it('logs at debug only when there was nothing to remove', async () => {
    const { logger, lines } = recordingLogger();
    await sweepTemporaryAtStart({ storage, logger, config: loadConfig({}) });
    expect(lines).toEqual([expect.objectContaining({ level: 20, files: 0, bytes: 0 })]);
  });

  it('warns, and never rejects, when the store cannot be swept', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const broken = new FilesystemBlobStore(join(dir, 'file', 'storage'));
    const { logger, lines } = recordingLogger();

    await sweepTemporaryAtStart({ storage: broken, logger, config: loadConfig({}) });

    expect(lines).toEqual([expect.objectContaining({ level: 40, err: expect.objectContaining({ message: expect.stringContaining('ENOTDIR') }) })]);
  });
});
