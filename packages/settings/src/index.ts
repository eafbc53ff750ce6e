export { loadPolicy, savePolicy, type StoredPolicy } from './media-type-policy.ts';
