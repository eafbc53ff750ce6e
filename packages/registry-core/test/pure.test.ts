import { describe, expect, it } from 'vitest';
import { acceptedTypes, Lru, negotiate, pageOf, parseScope, requestedScopes, RegistryError, type StoredManifest } from '../src/index.ts';

describe('pageOf', () => {
  const tags = ['a', 'b', 'c', 'd'];
  const page = (n?: string, last?: string) => pageOf(tags, (t) => t, { n, last });

  it('pages after an exclusive last, with a next marker only when more remain', () => {
    expect(page()).toEqual({ items: tags, next: undefined });
    expect(page('2')).toEqual({ items: ['a', 'b'], next: 'b' });
    expect(page('2', 'b')).toEqual({ items: ['c', 'd'], next: undefined });
    expect(page('4')).toEqual({ items: tags, next: undefined });
    expect(page('0')).toEqual({ items: [], next: undefined });
    expect(page(undefined, 'bb')).toEqual({ items: ['c', 'd'], next: undefined });
    expect(page('1', 'z')).toEqual({ items: [], next: undefined });
  });

  it('refuses an n that is not a non-negative integer', () => {
    for (const n of ['-1', 'x', '1.5', '']) expect(() => page(n)).toThrow(RegistryError);
  });
});

describe('scopes', () => {
  it('splits type, name and actions; names keep their slashes', () => {
    expect(parseScope('repository:org/team/app:pull,push')).toEqual({ type: 'repository', name: 'org/team/app', actions: ['pull', 'push'] });
    expect(parseScope('registry:catalog:*')).toEqual({ type: 'registry', name: 'catalog', actions: ['*'] });
    expect(parseScope('nonsense')).toBeNull();
    expect(requestedScopes(['repository:a:pull repository:b:pull', 'bad'])).toHaveLength(2);
  });
});

describe('negotiate', () => {
  const index: StoredManifest = {
    digest: 'sha256:i',
    mediaType: 'application/vnd.oci.image.index.v1+json',
    bytes: Buffer.from('{}'),
    children: [
      { digest: 'sha256:arm', mediaType: 'application/vnd.oci.image.manifest.v1+json', platform: 'linux/arm64' },
      { digest: 'sha256:amd', mediaType: 'application/vnd.oci.image.manifest.v1+json', platform: 'linux/amd64' },
    ],
  };
  const all = () => true;

  it('reads Accept without parameters; absent, empty or wildcard accepts anything', () => {
    expect(acceptedTypes(undefined)).toBeNull();
    expect(acceptedTypes('')).toBeNull();
    expect(acceptedTypes('application/json, */*;q=0.1')).toBeNull();
    expect(acceptedTypes('A/B; q=0.5, c/d')).toEqual(new Set(['a/b', 'c/d']));
  });

  it('serves an index to any index type, the amd64 child to a client without one, else 404', () => {
    expect(negotiate(index, acceptedTypes('application/vnd.docker.distribution.manifest.list.v2+json'), all)).toEqual({ serve: 'stored' });
    expect(negotiate(index, acceptedTypes('application/vnd.oci.image.manifest.v1+json'), all)).toEqual({ serve: 'child', digest: 'sha256:amd' });
    expect(() => negotiate(index, acceptedTypes('application/vnd.oci.image.manifest.v1+json'), () => false)).toThrow(/excludes/);
    expect(() => negotiate(index, acceptedTypes('application/vnd.docker.distribution.manifest.v2+json'), all)).toThrow(RegistryError);
  });
});

describe('Lru', () => {
  it('evicts the least recently used entries past its weight', () => {
    const lru = new Lru<string, string>(5, (v) => v.length);
    lru.set('a', 'aa');
    lru.set('b', 'bb');
    lru.get('a');
    lru.set('c', 'cc');
    expect([lru.get('a'), lru.get('b'), lru.get('c')]).toEqual(['aa', undefined, 'cc']);
    lru.set('huge', 'xxxxxx');
    expect(lru.get('huge')).toBeUndefined();
    expect(lru.size).toBe(2);
  });
});
