export { ResourceLocks, type HeldLock } from './resource-lock.ts';
export { isRedisConnected, redisAddress, redisCommand, type RedisConnectionState } from './redis-connected.ts';
export { coalesce, type Coalesced } from './coalesce.ts';
