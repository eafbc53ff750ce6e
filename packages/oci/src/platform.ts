export interface PlatformLike {
  os: string;
  architecture: string;
  variant?: string;
}

export function formatPlatform(p: PlatformLike): string {
  return p.variant === undefined || p.variant === '' ? `${p.os}/${p.architecture}` : `${p.os}/${p.architecture}/${p.variant}`;
}

/** Names people type for the architectures images declare (as containerd normalizes them). */
const ARCHITECTURE_ALIASES: Readonly<Record<string, string>> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64' };

/** An image with no variant is built for its architecture's default one. */
const DEFAULT_VARIANT: Readonly<Record<string, string>> = { amd64: 'v1', arm64: 'v8', arm: 'v7' };

/**
 * Whether a platform passes `os/arch[/variant]` filters; no filters pass
 * everything. A filter without a variant takes every variant.
 */
export function platformMatches(p: PlatformLike, filters: readonly string[]): boolean {
  return filters.length === 0 || filters.some((filter) => matchesOne(p, filter));
}

function matchesOne(p: PlatformLike, filter: string): boolean {
  const [os, rawArch, variant] = filter.trim().toLowerCase().split('/');
  const arch = rawArch === undefined ? undefined : (ARCHITECTURE_ALIASES[rawArch] ?? rawArch);
  if (os !== p.os || arch !== p.architecture) return false;
  return variant === undefined || variant === (p.variant || DEFAULT_VARIANT[p.architecture]);
}
