export { ResourceLocks, type HeldLock } from './resource-lock.ts';
export { isRedisConnected, type RedisConnectionState } from './redis-connected.ts';
