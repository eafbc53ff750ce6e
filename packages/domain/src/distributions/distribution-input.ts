import { isRepositoryName } from '@cistern/oci';
import { z } from 'zod';
import { Id, Name, patchOf, VersionNumber } from '../shared/fields.ts';

const BasePath = z.string().min(1).max(255).refine(isRepositoryName, 'must be an OCI repository name (lowercase components separated by /)');

/** The writable fields of a distribution; their defaults apply on create and replace, never on a partial update. */
export const distributionShape = {
  name: Name,
  basePath: BasePath.describe('the registry serves /v2/<basePath>/... (a pull-through distribution every /v2/<basePath>/<upstream repository>/...)'),
  repository: Id.nullable()
    .optional()
    .describe(
      'the repository served: its latest version unless repositoryVersion pins one (a PATCH naming it without repositoryVersion follows the latest again, and ends pull-through); give it or remote',
    ),
  repositoryVersion: VersionNumber.nullable().default(null).describe('the number of the version of repository to serve (pinned); null follows the latest'),
  remote: Id.nullable()
    .optional()
    .describe(
      'pull-through: the remote whose upstream repositories are fetched on first pull, cached and served under basePath (a PATCH naming it stops serving the repository); give it or repository',
    ),
  registryMirror: z
    .boolean()
    .default(false)
    .describe(
      'pull-through only: also serve names under no base path (what dockerd and containerd send to a configured mirror); at most one distribution has it',
    ),
  tagTtlSeconds: z
    .number()
    .int()
    .min(1)
    .max(86_400)
    .default(300)
    .describe('pull-through: how long a cached tag is served before it is re-checked upstream, in seconds'),
  private: z.boolean().default(false).describe('pulling needs a pull token'),
};

const serves = (source: string | null | undefined): source is string => source !== null && source !== undefined;

/**
 * A distribution serves a repository's latest version or one version of it it
 * pins, or a remote (pull-through): exactly one of `repository` and `remote`.
 * A missing source is the one mistake worth its own message, at `repository`:
 * a version number means nothing without it.
 */
export const DistributionInput = z.strictObject(distributionShape).superRefine((input, ctx) => {
  const [repository, remote] = [serves(input.repository), serves(input.remote)];
  if (!repository && !remote) {
    ctx.addIssue({
      code: 'custom',
      path: ['repository'],
      message: 'required: the repository to serve (a repositoryVersion is a number within it), or else a remote to pull through',
    });
  }
  if (repository && remote) {
    ctx.addIssue({ code: 'custom', path: ['remote'], message: 'a distribution serves a repository or a remote, not both: give repository or remote' });
  }
  if (remote && input.repositoryVersion !== null) {
    ctx.addIssue({ code: 'custom', path: ['repositoryVersion'], message: 'pins a version of a repository: not with remote (pull-through)' });
  }
  if (!remote && input.registryMirror) {
    ctx.addIssue({ code: 'custom', path: ['registryMirror'], message: 'only a pull-through distribution (one with a remote) can be the registry mirror' });
  }
});
export type DistributionInput = z.output<typeof DistributionInput>;

/** A partial update: the given fields over the stored ones. */
export const DistributionPatch = patchOf(distributionShape);
export type DistributionPatch = z.output<typeof DistributionPatch>;
