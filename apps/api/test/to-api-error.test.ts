import { TokenInputError } from '@cistern/auth';
import { CisternError } from '@cistern/errors';
import { TaskStateError } from '@cistern/queue';
import { describe, expect, it } from 'vitest';
import { toApiError } from '../src/errors/to-api-error.ts';

describe('toApiError', () => {
  it('answers a domain error by its code when the table has it, with the fields its detail names', () => {
    expect(toApiError(new TaskStateError('task t already completed'))).toMatchObject({
      code: 'TASK_STATE_CONFLICT',
      status: 409,
      message: 'task t already completed',
    });
    const taken = new CisternError('ALREADY_EXISTS', 'name taken', { detail: [{ path: 'body.name', message: 'taken' }] });
    expect(toApiError(taken)).toMatchObject({ code: 'ALREADY_EXISTS', status: 409, details: [{ path: 'body.name', message: 'taken' }] });
  });

  it('answers a broken rule of tokens as VALIDATION_FAILED about the body', () => {
    const error = toApiError(new TokenInputError('pick one'));
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', status: 400, details: [{ path: 'body', message: 'pick one' }] });
  });

  it("answers a code that is no rule of the API's as INTERNAL_ERROR, the original kept for the log", () => {
    for (const cause of [new CisternError('STORAGE_UNAVAILABLE', 'disk gone'), new CisternError('UNAUTHORIZED', 'the upstream refused')]) {
      expect(toApiError(cause)).toMatchObject({ code: 'INTERNAL_ERROR', status: 500, message: 'internal error', cause });
    }
  });
});
