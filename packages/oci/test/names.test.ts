import { describe, expect, it } from 'vitest';
import { isRepositoryName, isTag, normalizeUpstream, parseReference } from '../src/index.ts';
import { expectOciError } from './helpers.ts';

const DIGEST = `sha256:${'b'.repeat(64)}`;

describe('repository names and tags', () => {
  it.each(['alpine', 'library/alpine', 'a/b/c', 'my-app', 'my--app', 'my_app', 'my__app', 'my.app', 'a0/b1.c2', 'docker.io/library/alpine'])(
    'accepts name %s',
    (name) => {
      expect(isRepositoryName(name)).toBe(true);
    },
  );

  it.each(['', 'Alpine', '-app', 'app-', 'a//b', '/a', 'a/', 'my___app', 'my..app', 'a:b', 'a b', `${'a'.repeat(256)}`])('refuses name %j', (name) => {
    expect(isRepositoryName(name)).toBe(false);
  });

  it('accepts a 255-character name', () => {
    expect(isRepositoryName(`${'a'.repeat(127)}/${'b'.repeat(127)}`)).toBe(true);
  });

  it.each(['latest', 'v1.2.3', '_x', 'A-b_c.d', 'a'.repeat(128)])('accepts tag %s', (tag) => expect(isTag(tag)).toBe(true));
  it.each(['', '.x', '-x', 'a:b', 'a/b', 'a'.repeat(129)])('refuses tag %j', (tag) => expect(isTag(tag)).toBe(false));
});

describe('parseReference', () => {
  it.each([
    ['alpine', { name: 'alpine' }],
    ['library/alpine:3.19', { name: 'library/alpine', tag: '3.19' }],
    [`app@${DIGEST}`, { name: 'app', digest: DIGEST }],
    [`team/app:v1@${DIGEST}`, { name: 'team/app', tag: 'v1', digest: DIGEST }],
  ])('parses %s', (s, expected) => {
    expect(parseReference(s)).toEqual(expected);
  });

  it.each([
    ['Alpine:3', 'NAME_INVALID'],
    ['localhost:5000/app', 'NAME_INVALID'],
    ['app:', 'TAG_INVALID'],
    ['app:-x', 'TAG_INVALID'],
    ['app@sha256:xyz', 'DIGEST_INVALID'],
    [`app@${DIGEST}@${DIGEST}`, 'REFERENCE_INVALID'],
    ['', 'NAME_INVALID'],
  ] as const)('refuses %j with %s', (s, code) => {
    expectOciError(() => parseReference(s), code);
  });
});

describe('normalizeUpstream', () => {
  it.each([
    ['docker.io', 'alpine', 'https://registry-1.docker.io', 'library/alpine'],
    ['https://docker.io/', 'alpine', 'https://registry-1.docker.io', 'library/alpine'],
    ['https://index.docker.io', 'bitnami/redis', 'https://registry-1.docker.io', 'bitnami/redis'],
    ['https://registry-1.docker.io', 'library/nginx', 'https://registry-1.docker.io', 'library/nginx'],
    ['https://ghcr.io', 'alpine', 'https://ghcr.io', 'alpine'],
    ['quay.io', 'prometheus/node-exporter', 'https://quay.io', 'prometheus/node-exporter'],
    ['http://localhost:5000/', 'app', 'http://localhost:5000', 'app'],
    ['https://docker.io.example.com', 'alpine', 'https://docker.io.example.com', 'alpine'],
  ])('%s + %s → %s %s', (url, name, registryUrl, normalized) => {
    expect(normalizeUpstream(url, name)).toEqual({ registryUrl, name: normalized });
  });

  it('refuses bad names and non-http URLs', () => {
    expectOciError(() => normalizeUpstream('docker.io', 'Alpine'), 'NAME_INVALID');
    expectOciError(() => normalizeUpstream('ftp://example.com', 'app'), 'URL_INVALID');
    expectOciError(() => normalizeUpstream('https://', 'app'), 'URL_INVALID');
  });
});
