export { ERROR_CODES, type ErrorCode } from './error-codes.ts';
export { CisternError, isCisternError, type CisternErrorOptions } from './cistern-error.ts';
