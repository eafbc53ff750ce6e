import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { PushTarget } from './distribution.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  artifactType?: string;
  annotations?: Record<string, string>;
}

export type DigestAlgorithm = 'sha256' | 'sha512';

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export function sha256(bytes: Uint8Array): string {
  return digestOf(bytes, 'sha256');
}

export function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

async function headers(target: PushTarget, repository: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const authorization = await target.authorization(repository);
  return authorization ? { ...extra, authorization } : extra;
}

async function expectStatus(response: Response, wanted: number, what: string): Promise<void> {
  if (response.status !== wanted) {
    throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
  }
  await response.body?.cancel();
}

/** Uploads a blob (POST then monolithic PUT) and returns its descriptor-ready digest. */
export async function pushBlob(target: PushTarget, repository: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(`${target.url}/v2/${repository}/blobs/uploads/`, {
    method: 'POST',
    headers: await headers(target, repository),
  });
  await expectStatus(start, 202, `start upload to ${repository}`);
  const location = new URL(start.headers.get('location') ?? '', target.url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: await headers(target, repository, { 'content-type': 'application/octet-stream' }),
    body: bytes,
  });
  await expectStatus(put, 201, `upload ${digest} to ${repository}`);
  return digest;
}

/** PUTs manifest bytes exactly as given under a tag or digest; returns their digest. */
export async function pushManifest(target: PushTarget, repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
  const response = await fetch(`${target.url}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: await headers(target, repository, { 'content-type': mediaType }),
    body: bytes,
  });
  await expectStatus(response, 201, `push manifest ${reference} to ${repository}`);
  return sha256(bytes);
}

export interface PushedManifest {
  digest: string;
  bytes: Buffer;
  mediaType: string;
  descriptor: Descriptor;
  /** Digests of the config and layers, in order. */
  blobs: string[];
}

export interface ImageOptions {
  format?: 'oci' | 'docker';
  /** Layer contents; default one random 1 KiB layer. */
  layers?: Uint8Array[];
  architecture?: string;
  os?: string;
  /** Makes the manifest a referrer of this descriptor. */
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Builds a small image from raw bytes, pushes its blobs and manifest, tags it when `tag` is given. */
export async function pushImage(target: PushTarget, repository: string, tag: string | undefined, options: ImageOptions = {}): Promise<PushedManifest> {
  const docker = options.format === 'docker';
  const architecture = options.architecture ?? 'amd64';
  const os = options.os ?? 'linux';
  const layers = (options.layers ?? [randomBytes(1024)]).map((layer) => gzipSync(layer));
  const config = json({
    architecture,
    os,
    rootfs: { type: 'layers', diff_ids: (options.layers ?? []).map((l) => sha256(l)) },
    config: {},
  });
  const configDigest = await pushBlob(target, repository, config);
  const layerDigests: string[] = [];
  for (const layer of layers) layerDigests.push(await pushBlob(target, repository, layer));
  const mediaType = docker ? DOCKER_MANIFEST : OCI_MANIFEST;
  const manifest = {
    schemaVersion: 2,
    mediaType,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: { mediaType: docker ? DOCKER_CONFIG : OCI_CONFIG, digest: configDigest, size: config.length },
    layers: layers.map((layer, i) => ({
      mediaType: docker ? DOCKER_LAYER : OCI_LAYER_GZIP,
      digest: layerDigests[i] ?? '',
      size: layer.length,
    })),
    ...(options.subject ? { subject: options.subject } : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
  const bytes = json(manifest);
  const digest = await pushManifest(target, repository, tag ?? sha256(bytes), bytes, mediaType);
  return {
    digest,
    bytes,
    mediaType,
    descriptor: { mediaType, digest, size: bytes.length, platform: { architecture, os } },
    blobs: [configDigest, ...layerDigests],
  };
}

/** Pushes an index (OCI, or a Docker manifest list) over the given manifests. */
export async function pushIndex(
  target: PushTarget,
  repository: string,
  tag: string,
  manifests: Descriptor[],
  format: 'oci' | 'docker' = 'oci',
): Promise<PushedManifest> {
  const mediaType = format === 'docker' ? DOCKER_LIST : OCI_INDEX;
  const bytes = json({ schemaVersion: 2, mediaType, manifests });
  const digest = await pushManifest(target, repository, tag, bytes, mediaType);
  return { digest, bytes, mediaType, descriptor: { mediaType, digest, size: bytes.length }, blobs: [] };
}

/** A multi-arch image: one small image per platform, then an index tagged `tag`. */
export async function pushMultiArch(
  target: PushTarget,
  repository: string,
  tag: string,
  platforms: string[] = ['linux/amd64', 'linux/arm64'],
  format: 'oci' | 'docker' = 'oci',
): Promise<{ index: PushedManifest; images: PushedManifest[] }> {
  const images: PushedManifest[] = [];
  for (const platform of platforms) {
    const [os = 'linux', architecture = 'amd64'] = platform.split('/');
    images.push(await pushImage(target, repository, undefined, { format, os, architecture }));
  }
  const index = await pushIndex(
    target,
    repository,
    tag,
    images.map((i) => i.descriptor),
    format,
  );
  return { index, images };
}
