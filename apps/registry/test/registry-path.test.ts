import { describe, expect, it } from 'vitest';
import { parseRange, suffixRange } from '../src/http/range-header.ts';
import { parseRegistryPath } from '../src/http/registry-path.ts';
import { registryRouteOf } from '../src/http/registry-route.ts';

const digest = `sha256:${'a'.repeat(64)}`;

describe('parseRegistryPath', () => {
  it('splits at the last verb, so names may contain verb-like segments', () => {
    expect(parseRegistryPath('/v2/')).toEqual({ kind: 'base' });
    expect(parseRegistryPath('/v2/_catalog')).toEqual({ kind: 'catalog' });
    expect(parseRegistryPath('/v2/org/team/app/manifests/v1')).toEqual({ kind: 'manifest', name: 'org/team/app', reference: 'v1' });
    expect(parseRegistryPath(`/v2/a/blobs/b/blobs/${digest}`)).toEqual({ kind: 'blob', name: 'a/blobs/b', digest });
    expect(parseRegistryPath('/v2/a/manifests/x/tags/list')).toEqual({ kind: 'tags', name: 'a/manifests/x' });
    expect(parseRegistryPath(`/v2/a/referrers/${digest}`)).toEqual({ kind: 'referrers', name: 'a', digest });
    expect(parseRegistryPath('/v2/a/blobs/uploads/')).toEqual({ kind: 'upload', name: 'a' });
    expect(parseRegistryPath('/v2/a/blobs/uploads/123')).toEqual({ kind: 'upload', name: 'a' });
  });

  it('rejects paths with no verb, an empty name or trailing segments', () => {
    for (const path of ['/v2/a', '/v2//manifests/v1', '/v2/a/manifests/', '/v2/a/tags/list/x', '/other', `/v2/a/blobs/${digest}/x`]) {
      expect([path, parseRegistryPath(path)]).toEqual([path, null]);
    }
  });
});

describe('registryRouteOf', () => {
  it('groups paths as the registry routes them, and anything else as other', () => {
    const groups = Object.fromEntries(
      [
        '/v2/',
        '/v2/_catalog',
        '/v2/a/tags/list/manifests/v1',
        `/v2/a/blobs/${digest}`,
        '/v2/a/blobs/uploads/1',
        '/v2/a/manifests/x/tags/list',
        `/v2/a/referrers/${digest}`,
        '/token',
        '/v2/a',
        '/token/x',
        '/',
      ].map((path) => [path, registryRouteOf(path)]),
    );
    expect(groups).toEqual({
      '/v2/': 'base',
      '/v2/_catalog': 'catalog',
      '/v2/a/tags/list/manifests/v1': 'manifests',
      [`/v2/a/blobs/${digest}`]: 'blobs',
      '/v2/a/blobs/uploads/1': 'uploads',
      '/v2/a/manifests/x/tags/list': 'tags',
      [`/v2/a/referrers/${digest}`]: 'referrers',
      '/token': 'token',
      '/v2/a': 'other',
      '/token/x': 'other',
      '/': 'other',
    });
  });
});

describe('parseRange', () => {
  it('takes one bytes range and ignores what it cannot honour', () => {
    expect(parseRange('bytes=0-9')).toEqual({ kind: 'range', range: { start: 0, end: 9 } });
    expect(parseRange('bytes=5-')).toEqual({ kind: 'range', range: { start: 5 } });
    expect(parseRange('bytes=-5')).toEqual({ kind: 'suffix', length: 5 });
    for (const header of [undefined, 'bytes=-', 'bytes=9-5', 'bytes=0-1,3-4', 'lines=1-2']) expect(parseRange(header)).toEqual({ kind: 'none' });
    expect(suffixRange(5, 100)).toEqual({ start: 95 });
    expect(suffixRange(500, 100)).toEqual({ start: 0 });
    expect(suffixRange(0, 100)).toBeNull();
  });
});
