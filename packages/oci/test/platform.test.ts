import { describe, expect, it } from 'vitest';
import { formatPlatform, platformMatches } from '../src/index.ts';

describe('platforms', () => {
  it('formats os/arch[/variant]', () => {
    expect(formatPlatform({ os: 'linux', architecture: 'amd64' })).toBe('linux/amd64');
    expect(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' })).toBe('linux/arm/v7');
    expect(formatPlatform({ os: 'linux', architecture: 'arm64', variant: '' })).toBe('linux/arm64');
  });

  it('passes everything when there are no filters', () => {
    expect(platformMatches({ os: 'unknown', architecture: 'unknown' }, [])).toBe(true);
  });

  it.each([
    [{ os: 'linux', architecture: 'amd64' }, ['linux/amd64'], true],
    [{ os: 'linux', architecture: 'amd64' }, ['linux/arm64', 'linux/amd64'], true],
    [{ os: 'windows', architecture: 'amd64' }, ['linux/amd64'], false],
    [{ os: 'linux', architecture: 'arm', variant: 'v6' }, ['linux/arm'], true],
    [{ os: 'linux', architecture: 'arm', variant: 'v6' }, ['linux/arm/v7'], false],
    [{ os: 'linux', architecture: 'arm' }, ['linux/arm/v7'], true],
    [{ os: 'linux', architecture: 'arm64' }, ['linux/arm64/v8'], true],
    [{ os: 'linux', architecture: 'arm64', variant: 'v8' }, ['Linux/ARM64/V8'], true],
    [{ os: 'linux', architecture: 'amd64' }, ['linux/x86_64'], true],
    [{ os: 'linux', architecture: 'arm64' }, ['linux/aarch64'], true],
    [{ os: 'unknown', architecture: 'unknown' }, ['linux/amd64'], false],
    [{ os: 'linux', architecture: 'amd64' }, ['linux'], false],
  ])('%j with %j → %s', (platform, filters, expected) => {
    expect(platformMatches(platform, filters)).toBe(expected);
  });
});
