import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, OciError, parseStrictJson } from '../src/index.ts';
import { expectOciError } from './helpers.ts';

describe('parseStrictJson', () => {
  it.each([
    ['{}', {}],
    ['[]', []],
    [' \t\r\n{ "a" : [ 1 , -2.5e3 , true , false , null , "x" ] } \n', { a: [1, -2500, true, false, null, 'x'] }],
    ['"\\u00e9\\n\\"\\\\\\/"', 'é\n"\\/'],
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    ['0.1', 0.1],
    ['{"a":{},"b":{"a":1}}', { a: {}, b: { a: 1 } }],
  ])('reads %s as JSON.parse does', (text, expected) => {
    expect(parseStrictJson(text)).toEqual(expected);
  });

  it('allows the same key in different objects', () => {
    expect(parseStrictJson('[{"a":1},{"a":2}]')).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('keeps an own "__proto__"-free object with the other dangerous names as plain keys', () => {
    expect(parseStrictJson('{"constructor":{"prototype":{}}}')).toEqual({ constructor: { prototype: {} } });
  });

  it.each([
    ['{"a":1,"a":1}', 'DUPLICATE_KEY', 'a'],
    ['{"k":[{"x":1,"y":2,"x":3}]}', 'DUPLICATE_KEY', 'k[0].x'],
    ['{"a b":{"c":1,"c":1}}', 'DUPLICATE_KEY', '["a b"].c'],
    ['{"\\n":1,"\\u000a":2}', 'DUPLICATE_KEY', '["\\n"]'],
    ['[9007199254740992]', 'NUMBER_UNSAFE', '[0]'],
    ['{"a":-9007199254740992}', 'NUMBER_UNSAFE', 'a'],
    ['{"a":1e16}', 'NUMBER_UNSAFE', 'a'],
    ['{"a":-1e999}', 'NUMBER_UNSAFE', 'a'],
    ['{"__proto__":null}', 'FORBIDDEN_KEY', '__proto__'],
    ['[1,]', 'JSON_INVALID', '[1]'],
    ['[1 2]', 'JSON_INVALID', '[0]'],
    ['{"a" 1}', 'JSON_INVALID', 'a'],
    ['{"a":tru}', 'JSON_INVALID', 'a'],
    ['{"a":"\\u12"}', 'JSON_INVALID', 'a'],
    ['{"a":-}', 'JSON_INVALID', 'a'],
    ['{"a":1.}', 'JSON_INVALID', 'a'],
    ['{"a":1e}', 'JSON_INVALID', 'a'],
    ['{"a":.5}', 'JSON_INVALID', 'a'],
    ['{"a":+1}', 'JSON_INVALID', 'a'],
    ['"unterminated', 'JSON_INVALID', undefined],
    ['{1:2}', 'JSON_INVALID', undefined],
  ] as const)('refuses %s with %s at %s', (text, code, field) => {
    const error = expectOciError(() => parseStrictJson(text), code);
    expect(error.field).toBe(field);
  });

  it('says where the input went wrong', () => {
    expect(() => parseStrictJson('{"a":[1,2,')).toThrow('a[2]: expected a value at the end of the input');
    expect(() => parseStrictJson('{"a":[1,2,?]}')).toThrow('a[2]: expected a value at offset 10');
  });

  it(`allows ${MAX_JSON_DEPTH} levels and refuses one more, without recursion`, () => {
    const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(() => parseStrictJson(nest(MAX_JSON_DEPTH))).not.toThrow();
    expectOciError(() => parseStrictJson(nest(MAX_JSON_DEPTH + 1)), 'JSON_TOO_DEEP');
    expectOciError(() => parseStrictJson(`${'{"a":'.repeat(1_000_000)}1${'}'.repeat(1_000_000)}`), 'JSON_TOO_DEEP');
    expect(() => parseStrictJson(nest(1_000), 2_000)).not.toThrow();
  });

  it('agrees with JSON.parse on every JSON value without duplicates or unsafe numbers', () => {
    const unsafeNumber = (v: unknown): boolean =>
      typeof v === 'number' ? Number.isInteger(v) && !Number.isSafeInteger(v) : typeof v === 'object' && v !== null && Object.values(v).some(unsafeNumber);
    const safe = fc.jsonValue({ maxDepth: 6 }).filter((v) => !JSON.stringify(v).includes('__proto__') && !unsafeNumber(v));
    fc.assert(
      fc.property(safe, (value) => {
        const text = JSON.stringify(value);
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('throws only OciError on arbitrary text, and only where JSON.parse fails or the input is ambiguous', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'{}[]",:0123456789.eE+-tfnrul \\a_') }), (text) => {
        let strictOk = true;
        try {
          parseStrictJson(text);
        } catch (error) {
          expect(error).toBeInstanceOf(OciError);
          strictOk = false;
        }
        let looseOk = true;
        try {
          JSON.parse(text);
        } catch {
          looseOk = false;
        }
        if (strictOk) expect(looseOk).toBe(true);
        if (looseOk && !strictOk) expect(() => parseStrictJson(text)).toThrow(/duplicate|__proto__|JavaScript number|nesting/);
      }),
      { numRuns: 2_000 },
    );
  });
});
