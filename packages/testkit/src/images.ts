import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Distribution } from './distribution.ts';
import { makeTempDir, removeDir } from './services.ts';

const run = promisify(execFile);

export interface SkopeoPushOptions {
  /** `oci` keeps the OCI manifest; `v2s2` converts to Docker schema 2 (`skopeo copy --format v2s2`). */
  format?: 'oci' | 'v2s2';
  /** Files of the image's single layer, path → content. */
  files?: Record<string, string>;
  architecture?: string;
}

/**
 * Builds an image with umoci (init, new, unpack, add files, repack) and pushes
 * it with skopeo, the way a real client would, with the registry's credentials.
 */
export async function buildAndPush(registry: Distribution, repository: string, tag: string, options: SkopeoPushOptions = {}): Promise<void> {
  const dir = await makeTempDir('umoci');
  try {
    const layout = join(dir, 'layout');
    const image = `${layout}:${tag}`;
    await run('umoci', ['init', '--layout', layout]);
    await run('umoci', ['new', '--image', image]);
    if (options.architecture) await run('umoci', ['config', '--image', image, '--architecture', options.architecture]);
    const bundle = join(dir, 'bundle');
    await run('umoci', ['unpack', '--rootless', '--image', image, bundle]);
    const files = options.files ?? { 'hello.txt': `hello from ${repository}:${tag}\n` };
    for (const [path, content] of Object.entries(files)) {
      const full = join(bundle, 'rootfs', path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, content);
    }
    await run('umoci', ['repack', '--image', image, bundle]);
    const args = ['copy', '--quiet', '--dest-tls-verify=false'];
    if (registry.auth !== 'none') args.push('--dest-creds', `${registry.username}:${registry.password}`);
    if (options.format === 'v2s2') args.push('--format', 'v2s2');
    args.push(`oci:${image}`, `docker://${registry.host}/${repository}:${tag}`);
    await run('skopeo', args, { env: { ...process.env, HOME: dir } });
  } finally {
    await removeDir(dir);
  }
}
