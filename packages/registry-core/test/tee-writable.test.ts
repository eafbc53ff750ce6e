import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TeeWritable } from '../src/blobs/tee-writable.ts';

const chunks = Array.from({ length: 8 }, (_, i) => Buffer.alloc(64 * 1024, i));

/** A store that keeps what it is given. */
function memoryStore(): { stream: Writable; received: Buffer[] } {
  const received: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      received.push(chunk);
      done();
    },
  });
  return { stream, received };
}

describe('TeeWritable', () => {
  it('leaves a client that has not read yet the whole blob and its end after a download that succeeded', async () => {
    // Small enough for the client's buffer: the download ends before the client reads, as a
    // response queued behind another on a keep-alive socket does.
    const small = chunks.map((chunk) => chunk.subarray(0, 1024));
    const store = memoryStore();
    const client = new PassThrough();
    const tee = new TeeWritable(store.stream, client, () => undefined);
    await pipeline(small, tee);
    await setImmediate();
    const received: Buffer[] = [];
    for await (const chunk of client) received.push(chunk as Buffer);
    expect(client.readableAborted).toBe(false);
    expect(Buffer.concat(received).equals(Buffer.concat(small))).toBe(true);
    expect(Buffer.concat(store.received).equals(Buffer.concat(small))).toBe(true);
  });

  it('cuts the client short when the download fails after its first byte, and passes on nothing of the last chunk', async () => {
    const client = new PassThrough();
    const store = memoryStore();
    store.stream.on('error', () => undefined);
    const tee = new TeeWritable(store.stream, client, () => undefined);
    const received: Buffer[] = [];
    client.on('data', (chunk: Buffer) => received.push(chunk));
    client.on('error', () => undefined);
    const closed = new Promise((resolve) => client.once('close', resolve));
    async function* failing() {
      yield* chunks.slice(0, 3);
      throw new Error('digest mismatch');
    }
    await expect(pipeline(failing, tee)).rejects.toThrow('digest mismatch');
    await closed;
    expect(client.destroyed).toBe(true);
    expect(Buffer.concat(received).length).toBeLessThan(3 * 64 * 1024);
  });
});
