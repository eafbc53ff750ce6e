export { contentTaskHandlers } from './content-tasks.ts';
export { manifestClosure } from './manifest-closure.ts';
