import { Writable, type PassThrough } from 'node:stream';

/**
 * Where an upstream download goes: into storage (unless the download policy keeps
 * nothing) and, while a client is attached, into that client's stream.
 *
 * - A client that goes away is detached; the download goes on for storage.
 * - The newest chunk is held back from the client until the digest is
 *   verified, so a corrupt blob never reaches a client in full (its response
 *   is cut short instead): by the store, which the tee ends (verifying,
 *   storing) before it lets the last chunk go, so that each byte is hashed
 *   once; or, where nothing is kept, by the upstream client, which ends the
 *   tee only once it has.
 * - A slow client slows the download (backpressure), it never buffers it all.
 */
export class TeeWritable extends Writable {
  private held: Buffer | undefined;
  private started = false;

  constructor(
    private readonly store: Writable | undefined,
    private readonly client: PassThrough | undefined,
    private readonly onStart: () => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (!this.started) {
      this.started = true;
      this.onStart();
    }
    const previous = this.held;
    this.held = chunk;
    let waiting = 2;
    let failed = false;
    const settle = (error?: Error | null): void => {
      if (failed) return;
      if (error) {
        failed = true;
        done(error);
        return;
      }
      if (--waiting === 0) done();
    };
    if (this.store) this.store.write(chunk, settle);
    else settle();
    this.toClient(previous, settle);
  }

  override _final(done: (error?: Error | null) => void): void {
    const last = this.held;
    this.held = undefined;
    const release = () =>
      this.toClient(last, () => {
        if (this.attached()) this.client?.end();
        done();
      });
    if (!this.store) return release();
    this.store.end((error?: Error | null) => (error ? done(error) : release()));
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.held = undefined;
    // After a download that finished this is only the auto-destroy: the client may still be reading its tail.
    if (this.writableFinished) return done(error);
    this.store?.destroy(error ?? undefined);
    // Before the first byte another source may still serve this client; after it, cut the response.
    if (this.started && this.attached()) this.client?.destroy(error ?? undefined);
    done(error);
  }

  private attached(): boolean {
    return this.client !== undefined && !this.client.destroyed;
  }

  private toClient(chunk: Buffer | undefined, done: () => void): void {
    const client = this.client;
    if (chunk === undefined || !client || client.destroyed) {
      done();
      return;
    }
    if (client.write(chunk)) {
      done();
      return;
    }
    const resume = (): void => {
      client.off('drain', resume);
      client.off('close', resume);
      done();
    };
    client.on('drain', resume);
    client.on('close', resume);
  }
}
