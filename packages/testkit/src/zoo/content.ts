import { OCI_INDEX, sha256, type Descriptor } from '../push.ts';

export interface StoredManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

interface Repository {
  manifests: Map<string, StoredManifest>;
  tags: Map<string, string>;
  blobs: Map<string, Buffer>;
}

/** What a manifest says about itself that a referrers list repeats. */
interface ReferrerFields {
  subject?: { digest?: string };
  artifactType?: string;
  config?: { mediaType?: string };
  annotations?: Record<string, string>;
}

/** A manifest's fields, or undefined for bytes that are not JSON (content may be stored under any media type). */
function jsonFields(bytes: Buffer): ReferrerFields | undefined {
  try {
    return JSON.parse(bytes.toString()) as ReferrerFields;
  } catch {
    return undefined;
  }
}

/**
 * In-memory registry content shared by every zoo member: repositories of
 * byte-exact manifests, tags and blobs, and the referrers of a digest as the
 * Referrers API lists them.
 */
export class RegistryContent {
  private readonly repositories = new Map<string, Repository>();

  private repository(name: string): Repository {
    let repository = this.repositories.get(name);
    if (!repository) {
      repository = { manifests: new Map(), tags: new Map(), blobs: new Map() };
      this.repositories.set(name, repository);
    }
    return repository;
  }

  has(name: string): boolean {
    return this.repositories.has(name);
  }

  /** Stores a blob in a repository; returns its digest. */
  addBlob(name: string, bytes: Uint8Array): string {
    const digest = sha256(bytes);
    this.repository(name).blobs.set(digest, Buffer.from(bytes));
    return digest;
  }

  /** Stores manifest bytes exactly under any media type, tagged with `tags`; returns their digest. */
  addManifest(name: string, bytes: Uint8Array, mediaType: string, tags: string[] = []): string {
    const digest = sha256(bytes);
    const repository = this.repository(name);
    repository.manifests.set(digest, { bytes: Buffer.from(bytes), mediaType, digest });
    for (const tag of tags) repository.tags.set(tag, digest);
    return digest;
  }

  /** Tag names in lexical order, or undefined for an unknown repository. */
  tags(name: string): string[] | undefined {
    const repository = this.repositories.get(name);
    return repository && [...repository.tags.keys()].sort();
  }

  /** A manifest by tag or digest. */
  manifest(name: string, reference: string): StoredManifest | undefined {
    const repository = this.repositories.get(name);
    return repository?.manifests.get(repository.tags.get(reference) ?? reference);
  }

  blob(name: string, digest: string): Buffer | undefined {
    return this.repositories.get(name)?.blobs.get(digest);
  }

  /** A blob from any repository: storage buckets are addressed by digest alone. */
  anyBlob(digest: string): Buffer | undefined {
    for (const repository of this.repositories.values()) {
      const blob = repository.blobs.get(digest);
      if (blob) return blob;
    }
    return undefined;
  }

  /**
   * The referrers of `digest` as the Referrers API lists them: each entry's
   * `artifactType` is the manifest's, else its config media type; its
   * annotations come along. `artifactType` keeps only entries of that type.
   */
  referrers(name: string, digest: string, artifactType?: string): Descriptor[] {
    const manifests = this.repositories.get(name)?.manifests.values() ?? [];
    return [...manifests].flatMap((m) => {
      const fields = jsonFields(m.bytes);
      if (fields?.subject?.digest !== digest) return [];
      const type = fields.artifactType ?? fields.config?.mediaType;
      if (artifactType !== undefined && type !== artifactType) return [];
      return [
        {
          mediaType: m.mediaType,
          digest: m.digest,
          size: m.bytes.length,
          ...(type ? { artifactType: type } : {}),
          ...(fields.annotations ? { annotations: fields.annotations } : {}),
        },
      ];
    });
  }

  /** The Referrers API's answer: an image index over `referrers()`. */
  referrersIndex(name: string, digest: string, artifactType?: string): Buffer {
    return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: this.referrers(name, digest, artifactType) }));
  }
}
