import { randomBytes } from 'node:crypto';
import type { RegistryContent } from './content.ts';
import { assembleMember, type ZooMember } from './member.ts';
import { startOrigin } from './origin.ts';
import { registryHandler } from './registry.ts';
import { startSignedStorage } from './storage.ts';

/**
 * ECR: Basic auth on every request (user `AWS`, the password a token from
 * `aws ecr get-login-password`), no `Docker-Content-Digest` on manifest HEAD
 * or GET, and blob GETs redirected (307) to presigned S3 URLs.
 */
export async function startEcr(content: RegistryContent): Promise<ZooMember> {
  const credentials = { username: 'AWS', password: randomBytes(16).toString('hex') };
  const wanted = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  const s3 = await startSignedStorage(content);
  const registry = await startOrigin(
    registryHandler({
      content,
      guard: (req) => (req.headers.authorization === wanted ? undefined : `Basic realm="https://${registry.host}/",service="ecr.amazonaws.com"`),
      digestHeader: false,
      blobRedirect: (_name, digest) => ({ status: 307, location: s3.sign(digest) }),
    }),
  );
  return assembleMember({ name: 'ecr', auth: 'basic', registry, storage: s3, credentials, sendsDigests: false });
}
