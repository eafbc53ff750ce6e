import { isDigest, isRepositoryGlob, normalizeUpstream } from '@cistern/oci';
import { z } from 'zod';
import { Name, patchOf, text } from '../shared/fields.ts';

/** Tag globs (`*`, `?`) or exact digests. */
const TagFilter = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => isDigest(s) || /^[A-Za-z0-9_.*?-]{1,128}$/.test(s), 'must be a tag glob (letters, digits, . _ - * ?) or a digest');

/** An upstream repository name or glob (`library/*`, `org/**`). */
const RepositoryGlob = z
  .string()
  .min(1)
  .max(255)
  .refine(isRepositoryGlob, 'must be a repository name or glob: lowercase components separated by /, * within a component, ** across them');

const Platform = z.string().regex(/^[a-z0-9._-]+\/[a-z0-9._-]+(?:\/[a-z0-9._-]+)?$/, 'must be os/architecture or os/architecture/variant');

/**
 * An absolute http(s) URL without `user:password@` (credentials have fields
 * of their own, stored encrypted). One message, naming the first thing wrong:
 * a missing scheme, another scheme, or credentials.
 */
const httpUrlWithoutCredentials = (fields: string) =>
  z
    .string()
    .max(2048)
    .superRefine((s, ctx) => {
      const problem = urlProblem(s, fields);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

function urlProblem(s: string, fields: string): string | undefined {
  // The parser would drop or escape them, yet the text is stored as given (PostgreSQL text cannot hold NUL).
  if (/\p{Cc}/u.test(s)) return 'must not contain control characters';
  const url = URL.parse(s);
  const hasScheme = s.includes('://');
  if (url && hasScheme && url.protocol !== 'http:' && url.protocol !== 'https:') return `must use http or https, not ${url.protocol.slice(0, -1)}`;
  if (!url || !hasScheme || !url.host) {
    // `host:port` parses as a scheme of its own, and a bare address not at all: both want a scheme in front.
    const guess = hasScheme ? null : URL.parse(`https://${s}`);
    const hint = guess?.host && !guess.username && !guess.password ? `; it has no scheme: write https://${s} (or http://${s})` : '';
    return `must be an absolute http(s) URL, e.g. https://registry.example.com${hint}`;
  }
  if (url.username !== '' || url.password !== '') return `must not carry credentials: use ${fields}`;
  return undefined;
}

const writeOnlySecret = () => text(4096).nullable().optional().describe('write-only, stored encrypted: omit to keep the stored one, null to clear it');

/** The writable fields of a remote; their defaults apply on create and replace, never on a partial update. */
export const remoteShape = {
  name: Name,
  url: httpUrlWithoutCredentials('username and password'),
  upstreamName: text(255)
    .min(1)
    .nullable()
    .default(null)
    .describe(
      'the upstream repository a sync of this remote mirrors (on Docker Hub a one-segment name gets library/); null for a remote of many repositories (pull-through)',
    ),
  upstreamRepositories: z
    .array(RepositoryGlob)
    .max(1000)
    .default([])
    .describe('names and globs (library/*, org/**) of the upstream repositories this remote may serve; empty: only upstreamName when set, else any'),
  includes: z.array(TagFilter).max(1000).default([]).describe('tag globs or digests to sync; empty = all'),
  excludes: z.array(TagFilter).max(1000).default([]),
  platforms: z.array(Platform).max(64).default([]).describe('e.g. linux/amd64, linux/arm64/v8; empty = all'),
  policy: z.enum(['immediate', 'on_demand', 'streamed']).default('immediate'),
  username: text(255).nullable().default(null),
  password: writeOnlySecret(),
  tlsVerify: z.boolean().default(true),
  caCert: text(65536)
    .refine((s) => s.includes('-----BEGIN CERTIFICATE-----'), 'must be PEM (-----BEGIN CERTIFICATE-----)')
    .nullable()
    .default(null),
  proxyUrl: httpUrlWithoutCredentials('proxyUsername and proxyPassword').nullable().default(null),
  proxyUsername: text(255).nullable().default(null).describe('sent with proxyPassword to the proxy only, as Proxy-Authorization: Basic'),
  proxyPassword: writeOnlySecret(),
  downloadConcurrency: z.number().int().min(1).max(64).default(10),
  requestsPerSecond: z.number().positive().max(10_000).nullable().default(null),
  maxRetries: z.number().int().min(0).max(20).default(3),
  connectTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
  readTimeoutMs: z.number().int().min(1000).max(3_600_000).default(60_000),
  syncSignatures: z.boolean().default(true),
  syncReferrers: z.boolean().default(true),
};

/** A whole remote; the checks across fields run on the result of a partial update too. */
export const RemoteInput = z.strictObject(remoteShape).superRefine((remote, ctx) => {
  try {
    if (remote.upstreamName !== null) normalizeUpstream(remote.url, remote.upstreamName);
  } catch (error) {
    // A url refused on its own is named there, not again as the upstreamName's fault.
    if (!urlProblem(remote.url, '')) ctx.addIssue({ code: 'custom', path: ['upstreamName'], message: (error as Error).message });
  }
  if (remote.password && !remote.username) {
    ctx.addIssue({ code: 'custom', path: ['username'], message: 'a password needs a username' });
  }
  if (remote.proxyPassword && !remote.proxyUsername) {
    ctx.addIssue({ code: 'custom', path: ['proxyUsername'], message: 'a proxyPassword needs a proxyUsername' });
  }
  if (remote.proxyUsername && !remote.proxyUrl) {
    ctx.addIssue({ code: 'custom', path: ['proxyUrl'], message: 'proxy credentials need a proxyUrl' });
  }
});
export type RemoteInput = z.output<typeof RemoteInput>;

/** A partial update: the given fields replace the stored ones. */
export const RemotePatch = patchOf(remoteShape);
export type RemotePatch = z.output<typeof RemotePatch>;
