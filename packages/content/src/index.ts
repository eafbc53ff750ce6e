export { contentTaskHandlers } from './content-tasks.ts';
