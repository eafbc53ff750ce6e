import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { FilesystemBlobStore } from '@cistern/storage';
const size = 1024 ** 3, chunk = 65536;
const pattern = Buffer.alloc(1024 ** 2); for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 2654435761) >>> 24;
const gen = () => Readable.from((function* () { for (let s = 0; s < size; s += chunk) yield pattern.subarray(s % pattern.length, s % pattern.length + chunk); })(), { objectMode: false, highWaterMark: chunk });
const h = createHash('sha256'); for await (const c of gen()) h.update(c as Buffer); const digest = 'sha256:' + h.digest('hex');
const store = new FilesystemBlobStore('/dev/shm/zzprof');
for (let r = 0; r < 4; r++) { await store.delete(digest).catch(() => {}); const t = performance.now(); await store.put(digest, gen(), size); console.log('store', ((performance.now() - t) / 1000).toFixed(2)); }
await store.delete(digest);
