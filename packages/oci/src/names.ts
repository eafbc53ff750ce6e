import { isDigest } from './digest.ts';
import { OciError } from './errors.ts';

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Clients cap `host/name` at 255 characters; a name alone can be no longer. */
export const MAX_NAME_LENGTH = 255;

export function isRepositoryName(s: string): boolean {
  return s.length <= MAX_NAME_LENGTH && NAME.test(s);
}

export function isTag(s: string): boolean {
  return TAG.test(s);
}

export interface Reference {
  name: string;
  tag?: string;
  digest?: string;
}

/**
 * `name`, `name:tag`, `name@digest` or `name:tag@digest`. The tag colon is
 * the last one after the last slash; a registry host with a port is not part
 * of a repository name, so `localhost:5000/app` is refused.
 */
export function parseReference(s: string): Reference {
  const at = s.indexOf('@');
  if (at !== s.lastIndexOf('@')) throw new OciError('REFERENCE_INVALID', `${JSON.stringify(s)} has more than one '@'`);
  const digest = at === -1 ? undefined : s.slice(at + 1);
  const rest = at === -1 ? s : s.slice(0, at);
  const colon = rest.lastIndexOf(':');
  const hasTag = colon > rest.lastIndexOf('/');
  const name = hasTag ? rest.slice(0, colon) : rest;
  const tag = hasTag ? rest.slice(colon + 1) : undefined;
  if (!isRepositoryName(name)) throw new OciError('NAME_INVALID', `${JSON.stringify(name)} is not a repository name`);
  if (tag !== undefined && !isTag(tag)) throw new OciError('TAG_INVALID', `${JSON.stringify(tag)} is not a tag`);
  if (digest !== undefined && !isDigest(digest)) throw new OciError('DIGEST_INVALID', `${JSON.stringify(digest)} is not a digest`);
  return { name, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
const DOCKER_HUB = 'https://registry-1.docker.io';

/**
 * The registry URL and repository name to talk to. Only on Docker Hub hosts
 * does `docker.io` mean `registry-1.docker.io` and a one-segment name mean
 * `library/<name>`; other registries are taken as written (no trailing slash).
 * A URL without a scheme is https.
 */
export function normalizeUpstream(registryUrl: string, name: string): { registryUrl: string; name: string } {
  const url = parseRegistryUrl(registryUrl);
  const isDockerHub = DOCKER_HUB_HOSTS.has(url.hostname) && (url.port === '' || url.port === '443');
  const normalized = isDockerHub && !name.includes('/') ? `library/${name}` : name;
  if (!isRepositoryName(normalized)) {
    throw new OciError('NAME_INVALID', `${JSON.stringify(name)} is not a repository name`);
  }
  return { registryUrl: isDockerHub ? DOCKER_HUB : url.href.replace(/\/+$/, ''), name: normalized };
}

function parseRegistryUrl(raw: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  const url = URL.parse(withScheme);
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new OciError('URL_INVALID', `${JSON.stringify(raw)} is not an http(s) registry URL`);
  }
  return url;
}
