export { contentTasks, type ContentTaskDeps } from './content-tasks.ts';
export { copyParamsSchema, removeParamsSchema, tagParamsSchema, untagParamsSchema } from './content-params.ts';
