import { gzipSync } from 'node:zlib';
import { DOCKER_CONFIG, DOCKER_LAYER, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST, json, type Descriptor } from '../push.ts';
import type { RegistryContent } from './content.ts';

const EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json';
const SPDX = 'application/spdx+json';
const COSIGN_PAYLOAD = 'application/vnd.dev.cosign.simplesigning.v1+json';

/** What a faithful mirror of the corpus holds. */
export interface Corpus {
  repository: string;
  /** Tag → manifest digest. */
  tags: Record<string, string>;
  /** Every manifest: tagged ones, index children and the untagged SBOM. */
  manifests: Set<string>;
  /** Every config and layer blob. */
  blobs: Set<string>;
  /** The multi-arch index, subject of the SBOM and the cosign signature. */
  index: string;
  /** The SBOM whose `subject` is the index. */
  sbom: string;
}

interface Part {
  mediaType: string;
  bytes: Buffer;
}

/**
 * Loads the zoo's corpus into `content` under `repository`, byte for byte the
 * same every time: a multi-arch OCI index of two images (`multi`), a Docker
 * schema 2 image (`v2s2`), an SPDX SBOM whose `subject` is the index (listed
 * by the Referrers API and by the `sha256-<hex>` tag schema, as a client
 * leaves it on a registry without the API), and a cosign signature tag
 * `sha256-<hex>.sig`.
 */
export function addCorpus(content: RegistryContent, repository = 'corpus'): Corpus {
  const blobs = new Set<string>();
  const manifests = new Set<string>();
  const tags: Record<string, string> = {};
  const blob = (part: Part): Descriptor => {
    const digest = content.addBlob(repository, part.bytes);
    blobs.add(digest);
    return { mediaType: part.mediaType, digest, size: part.bytes.length };
  };
  const manifest = (mediaType: string, body: Record<string, unknown>, tag?: string): Descriptor => {
    const bytes = json({ schemaVersion: 2, mediaType, ...body });
    const digest = content.addManifest(repository, bytes, mediaType, tag ? [tag] : []);
    manifests.add(digest);
    if (tag) tags[tag] = digest;
    return { mediaType, digest, size: bytes.length };
  };
  const image = (format: 'oci' | 'docker', architecture: string, tag?: string): Descriptor => {
    const docker = format === 'docker';
    const config = blob({
      mediaType: docker ? DOCKER_CONFIG : OCI_CONFIG,
      bytes: json({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
    });
    const layer = blob({ mediaType: docker ? DOCKER_LAYER : OCI_LAYER_GZIP, bytes: gzipSync(`zoo layer ${format} ${architecture}\n`) });
    return manifest(docker ? DOCKER_MANIFEST : OCI_MANIFEST, { config, layers: [layer] }, tag);
  };

  const platforms = ['amd64', 'arm64'].map((architecture) => ({ ...image('oci', architecture), platform: { architecture, os: 'linux' } }));
  const index = manifest(OCI_INDEX, { manifests: platforms }, 'multi');
  image('docker', 'amd64', 'v2s2');
  const hex = index.digest.slice('sha256:'.length);
  const sbom = manifest(OCI_MANIFEST, {
    artifactType: SPDX,
    config: blob({ mediaType: EMPTY_CONFIG, bytes: Buffer.from('{}') }),
    layers: [blob({ mediaType: SPDX, bytes: json({ spdxVersion: 'SPDX-2.3', name: 'zoo corpus' }) })],
    subject: index,
    annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
  });
  manifest(OCI_INDEX, { manifests: content.referrers(repository, index.digest) }, `sha256-${hex}`);
  const payload = json({
    critical: { identity: { 'docker-reference': 'zoo/corpus' }, image: { 'docker-manifest-digest': index.digest }, type: 'cosign container image signature' },
    optional: null,
  });
  manifest(
    OCI_MANIFEST,
    {
      config: blob({ mediaType: OCI_CONFIG, bytes: json({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [] }, config: {} }) }),
      layers: [{ ...blob({ mediaType: COSIGN_PAYLOAD, bytes: payload }), annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQDzoo' } }],
    },
    `sha256-${hex}.sig`,
  );
  return { repository, tags, manifests, blobs, index: index.digest, sbom: sbom.digest };
}
