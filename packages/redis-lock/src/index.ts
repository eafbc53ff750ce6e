export { ResourceLocks, type HeldLock } from './resource-lock.ts';
