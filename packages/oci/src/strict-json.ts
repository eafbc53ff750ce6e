import { OciError } from './errors.ts';
import { formatPath, type PathSegment } from './json-path.ts';

/** Manifests nest five or six levels; 64 leaves room for any unknown field and bounds every walk after this one. */
export const MAX_JSON_DEPTH = 64;

/** One open container. One class for both kinds keeps property access monomorphic (this loop is the hot path). */
class Frame {
  key: string | undefined = undefined;
  index = 0;
  readonly keys: Set<string> | undefined;

  constructor(readonly isObject: boolean) {
    this.keys = isObject ? new Set() : undefined;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const LITERALS = ['true', 'false', 'null'];
/** Characters a string may hold unescaped: anything but the quote, the backslash and controls. */
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings: matching them is the point.
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;
const ESCAPABLE = new Set([...'"\\/bfnrtu'].map((ch) => ch.charCodeAt(0)));

/**
 * Parses one JSON document that every JSON reader would read the same way.
 * `JSON.parse` keeps the last of duplicate keys while other readers keep the
 * first or refuse, so a manifest with duplicates can mean two things;
 * integers above 2^53 − 1 round silently; `__proto__` turns into a prototype
 * in naive object copies. This scanner refuses all three, without recursion,
 * then lets `JSON.parse` (which accepts the same grammar) build the value.
 */
export function parseStrictJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  new Scanner(text, maxDepth).scan();
  return JSON.parse(text);
}

class Scanner {
  private i = 0;
  private readonly stack: Frame[] = [];

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  scan(): void {
    for (;;) {
      this.value();
      if (!this.afterValue()) return;
    }
  }

  /** Consumes one scalar, or opens a container and positions at its first value. */
  private value(): void {
    for (;;) {
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.i);
      if (c === OPEN_BRACE) {
        this.open(new Frame(true));
        this.skipWhitespace();
        if (this.text.charCodeAt(this.i) === CLOSE_BRACE) return this.close();
        this.key();
      } else if (c === OPEN_BRACKET) {
        this.open(new Frame(false));
        this.skipWhitespace();
        if (this.text.charCodeAt(this.i) === CLOSE_BRACKET) return this.close();
      } else {
        return this.scalar(c);
      }
    }
  }

  /**
   * After a value: closes finished containers and consumes the comma before
   * the next value. Returns false when the document is complete.
   */
  private afterValue(): boolean {
    for (;;) {
      this.skipWhitespace();
      const frame = this.stack[this.stack.length - 1];
      if (frame === undefined) {
        if (this.i < this.text.length) this.fail('unexpected data after the document');
        return false;
      }
      const c = this.text.charCodeAt(this.i);
      const isObject = frame.isObject;
      if (c === COMMA) {
        this.i++;
        if (isObject) this.key();
        else frame.index++;
        return true;
      }
      if (c !== (isObject ? CLOSE_BRACE : CLOSE_BRACKET)) this.fail(`expected ',' or '${isObject ? '}' : ']'}'`);
      this.close();
    }
  }

  private close(): void {
    this.i++;
    this.stack.pop();
  }

  private open(frame: Frame): void {
    if (this.stack.length >= this.maxDepth) {
      throw new OciError('JSON_TOO_DEEP', `nesting deeper than ${this.maxDepth} levels`, this.path());
    }
    this.i++;
    this.stack.push(frame);
  }

  /** Reads `"key":` into the open object, refusing repeats and `__proto__`. */
  private key(): void {
    this.skipWhitespace();
    if (this.text.charCodeAt(this.i) !== QUOTE) this.fail('expected a string key');
    const start = this.i;
    const escaped = this.string();
    const raw = this.text.slice(start, this.i);
    // Escapes can spell one key two ways ("a" and "\u0061"), so compare decoded keys.
    const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
    const frame = this.stack[this.stack.length - 1] as Frame;
    const keys = frame.keys as Set<string>;
    frame.key = key;
    if (key === '__proto__') throw new OciError('FORBIDDEN_KEY', 'the key "__proto__" is not allowed', this.path());
    if (keys.has(key)) throw new OciError('DUPLICATE_KEY', 'duplicate key', this.path());
    keys.add(key);
    this.skipWhitespace();
    if (this.text.charCodeAt(this.i) !== COLON) this.fail("expected ':'");
    this.i++;
  }

  private scalar(c: number): void {
    if (c === QUOTE) return void this.string();
    if (c === MINUS || isDigit(c)) return this.number();
    for (const literal of LITERALS) {
      if (this.text.startsWith(literal, this.i)) return void (this.i += literal.length);
    }
    this.fail('expected a value');
  }

  /** Consumes a string starting at its opening quote; returns whether it held escapes. */
  private string(): boolean {
    const text = this.text;
    let escaped = false;
    let i = this.i + 1;
    for (;;) {
      // A sticky regex skips the plain run natively, many times faster than a charCodeAt loop.
      PLAIN_RUN.lastIndex = i;
      PLAIN_RUN.test(text);
      i = PLAIN_RUN.lastIndex;
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.i = i + 1;
        return escaped;
      }
      this.i = i;
      if (i >= text.length) this.fail('unterminated string');
      if (c !== BACKSLASH) this.fail('control character in a string');
      escaped = true;
      const next = text.charCodeAt(i + 1);
      if (!ESCAPABLE.has(next)) this.fail('invalid escape');
      if (next === 0x75 && ![2, 3, 4, 5].every((k) => isHex(text.charCodeAt(i + k)))) this.fail('invalid \\u escape');
      i += next === 0x75 ? 6 : 2;
    }
  }

  private number(): void {
    const text = this.text;
    const start = this.i;
    let i = start;
    if (text.charCodeAt(i) === MINUS) i++;
    const intStart = i;
    while (isDigit(text.charCodeAt(i))) i++;
    const intDigits = i - intStart;
    if (intDigits === 0 || (intDigits > 1 && text.charCodeAt(intStart) === 0x30)) this.failAt(i, 'invalid number');
    let integer = true;
    if (text.charCodeAt(i) === DOT) {
      integer = false;
      const fracStart = ++i;
      while (isDigit(text.charCodeAt(i))) i++;
      if (i === fracStart) this.failAt(i, 'invalid number');
    }
    if ((text.charCodeAt(i) | 0x20) === 0x65) {
      integer = false;
      i++;
      if (text.charCodeAt(i) === PLUS || text.charCodeAt(i) === MINUS) i++;
      const expStart = i;
      while (isDigit(text.charCodeAt(i))) i++;
      if (i === expStart) this.failAt(i, 'invalid number');
    }
    this.i = i;
    // Fifteen digits always fit; anything longer, or with a fraction or exponent, is checked by value.
    if (integer && intDigits <= 15) return;
    const value = Number(text.slice(start, i));
    if (!Number.isFinite(value) || (Number.isInteger(value) && !Number.isSafeInteger(value))) {
      throw new OciError('NUMBER_UNSAFE', `${text.slice(start, i)} cannot be held exactly by a JavaScript number`, this.path());
    }
  }

  private skipWhitespace(): void {
    const text = this.text;
    let i = this.i;
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
    this.i = i;
  }

  /** The JSON path of the value being read, for messages. */
  private path(): string | undefined {
    const segments: PathSegment[] = [];
    for (const frame of this.stack) {
      const segment = frame.isObject ? frame.key : frame.index;
      if (segment === undefined) break;
      segments.push(segment);
    }
    return formatPath(segments);
  }

  private failAt(i: number, message: string): never {
    this.i = i;
    return this.fail(message);
  }

  private fail(message: string): never {
    const where = this.i >= this.text.length ? 'at the end of the input' : `at offset ${this.i}`;
    throw new OciError('JSON_INVALID', `${message} ${where}`, this.path());
  }
}
