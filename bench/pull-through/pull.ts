import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { OCI_MANIFEST, removeDir } from '@cistern/testkit';

const run = promisify(execFile);

/** A timed pull: its wall seconds, or why it failed (the registry's answer for the manifest, skopeo's last line). */
export type PullOutcome = { ok: true; seconds: number } | { ok: false; answer: string; skopeo: string };

/**
 * Writes back what earlier steps left dirty (the push, the previous pull's
 * destination, a cache's files), so that no timed pull pays for another's writeback.
 */
export async function flushDirtyPages(): Promise<void> {
  await run('sync');
}

/**
 * `skopeo copy` of `docker://<host>/<repository>:<tag>` over plain HTTP into an
 * empty `dir:` destination, timed on the wall clock; the destination is
 * removed afterwards. A failed pull is described by what the registry answers
 * for the manifest (status and error codes), not by skopeo's wording.
 */
export async function timedPull(host: string, repository: string, tag: string, destination: string): Promise<PullOutcome> {
  await removeDir(destination);
  await flushDirtyPages();
  const started = performance.now();
  const failure = await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${host}/${repository}:${tag}`, `dir:${destination}`]).then(
    () => undefined,
    (error: { stderr?: string }) => error.stderr ?? '',
  );
  const seconds = (performance.now() - started) / 1000;
  await removeDir(destination);
  if (failure === undefined) return { ok: true, seconds };
  return { ok: false, answer: await manifestAnswer(host, repository, tag), skopeo: failure.trim().split('\n').at(-1) ?? '' };
}

/** `HTTP <status> <error codes>` of a manifest GET, as the registry answers it now. */
async function manifestAnswer(host: string, repository: string, tag: string): Promise<string> {
  const path = `/v2/${repository}/manifests/${tag}`;
  try {
    const response = await fetch(`http://${host}${path}`, { headers: { accept: OCI_MANIFEST }, signal: AbortSignal.timeout(30_000) });
    const body = (await response.json().catch(() => ({}))) as { errors?: { code?: string }[] };
    const codes = (body.errors ?? []).map((e) => e.code).join(', ');
    return `GET ${path} answers HTTP ${response.status}${codes === '' ? '' : ` ${codes}`}`;
  } catch (error) {
    return `GET ${path} failed: ${(error as Error).message}`;
  }
}
