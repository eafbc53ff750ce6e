/**
 * Manifests parsed and validated per second by `@cistern/oci`, next to the
 * floor any parser pays on the same bytes: UTF-8 decode + `JSON.parse` +
 * sha256. Run: `npm run bench:oci [-- seconds]` (default 5).
 */
import { createHash } from 'node:crypto';
import { MediaType, parseManifest } from '@cistern/oci';

const hex = (seed: string) => createHash('sha256').update(seed).digest('hex');
const digest = (seed: string) => `sha256:${hex(seed)}`;

/** A BuildKit-style single-platform image: config, eight gzip layers, a few annotations. */
function imageManifest(): Uint8Array {
  const doc = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: digest('config'), size: 7_023 },
    layers: Array.from({ length: 8 }, (_, i) => ({
      mediaType: MediaType.OciLayerGzip,
      digest: digest(`layer ${i}`),
      size: 1_000_000 + i * 37_411,
    })),
    annotations: {
      'org.opencontainers.image.created': '2024-05-14T09:21:37Z',
      'org.opencontainers.image.source': 'https://github.com/example/app',
      'org.opencontainers.image.revision': hex('rev').slice(0, 40),
    },
  };
  return Buffer.from(JSON.stringify(doc, null, 2));
}

/** An index of 100 platform entries, as large multi-arch images and BuildX attestations produce. */
function hundredEntryIndex(): Uint8Array {
  const arches = ['amd64', 'arm64', 'arm', 'ppc64le', 's390x', '386', 'riscv64', 'mips64le', 'loong64', 'wasm'];
  const doc = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: Array.from({ length: 100 }, (_, i) => ({
      mediaType: MediaType.OciManifest,
      digest: digest(`manifest ${i}`),
      size: 1_600 + i,
      platform: { architecture: arches[i % arches.length], os: i % 7 === 0 ? 'windows' : 'linux', ...(i % 3 === 0 ? { variant: 'v8' } : {}) },
      ...(i % 2 === 1
        ? { annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': digest(`manifest ${i - 1}`) } }
        : {}),
    })),
  };
  return Buffer.from(JSON.stringify(doc, null, 2));
}

const decoder = new TextDecoder();

/** The floor: what reading and digesting the bytes costs with no validation at all. */
function jsonParseAndSha256(bytes: Uint8Array): unknown {
  const value: unknown = JSON.parse(decoder.decode(bytes));
  createHash('sha256').update(bytes).digest('hex');
  return value;
}

/** Operations per second of `fn` over one window of `seconds`. */
function measure(fn: () => unknown, seconds: number): number {
  let ops = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 100; i++) fn();
    ops += 100;
    elapsed = process.hrtime.bigint() - start;
  }
  return ops / (Number(elapsed) / 1e9);
}

/**
 * Best of several windows, the two peers alternating, so that noise from a
 * shared machine hits both alike and the ratio stays meaningful.
 */
function race(a: () => unknown, b: () => unknown, seconds: number, rounds = 5): [number, number] {
  // Warm up the JIT before any window counts.
  for (let i = 0; i < 2_000; i++) {
    a();
    b();
  }
  let bestA = 0;
  let bestB = 0;
  for (let round = 0; round < rounds; round++) {
    bestA = Math.max(bestA, measure(a, seconds / rounds));
    bestB = Math.max(bestB, measure(b, seconds / rounds));
  }
  return [bestA, bestB];
}

const seconds = Number(process.argv[2] ?? 5);
const cases = [
  ['image manifest', imageManifest()],
  ['100-entry index', hundredEntryIndex()],
] as const;

const format = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`node ${process.version}, ${seconds}s per peer per case, best of 5 alternating windows`);
console.log(`${'case'.padEnd(18)}${'bytes'.padStart(8)}${'parseManifest/s'.padStart(18)}${'JSON.parse+sha256/s'.padStart(22)}${'ratio'.padStart(8)}`);
for (const [name, bytes] of cases) {
  const [parsed, floor] = race(
    () => parseManifest(bytes),
    () => jsonParseAndSha256(bytes),
    seconds,
  );
  console.log(
    `${name.padEnd(18)}${String(bytes.length).padStart(8)}${format(parsed).padStart(18)}${format(floor).padStart(22)}${`${(floor / parsed).toFixed(1)}x`.padStart(8)}`,
  );
}
