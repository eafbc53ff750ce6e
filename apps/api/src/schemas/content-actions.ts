import { copyParamsSchema, removeParamsSchema, tagParamsSchema, untagParamsSchema } from '@cistern/content-actions';

// The task params are the single source of truth; the repository comes from the path.
export const TagRequest = tagParamsSchema.omit({ repositoryId: true }).meta({ id: 'TagRequest' });
export const UntagRequest = untagParamsSchema.omit({ repositoryId: true }).meta({ id: 'UntagRequest' });
export const RemoveRequest = removeParamsSchema
  .omit({ repositoryId: true })
  .refine((body) => body.digests.length + body.tags.length > 0, { message: 'name at least one digest or tag', path: ['digests'] })
  .meta({ id: 'RemoveRequest' });
export const CopyRequest = copyParamsSchema.omit({ repositoryId: true }).meta({ id: 'CopyRequest' });
