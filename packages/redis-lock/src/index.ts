export { ResourceLocks, type HeldLock } from './resource-lock.ts';
export { isRedisConnected, redisAddress, type RedisConnectionState } from './redis-connected.ts';
