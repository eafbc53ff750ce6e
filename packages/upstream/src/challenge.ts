export interface Challenge {
  /** Lowercased: `bearer`, `basic`, ... */
  scheme: string;
  /** Parameter names lowercased; quoted values unescaped. */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;
const SPACE = /[ \t]*/y;

/**
 * Parses a WWW-Authenticate header (RFC 9110 §11.6.1): several challenges,
 * comma-separated parameters, quoted strings with backslash escapes, e.g.
 * `Bearer realm="https://auth",service="reg",scope="repository:a:pull",error="insufficient_scope", Basic realm="x"`.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const skip = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    const m = re.exec(header);
    if (!m) return undefined;
    i = re.lastIndex;
    return m[0];
  };
  const skipSpaceAndCommas = (): void => {
    while (i < header.length && /[ \t,]/.test(header[i] ?? '')) i += 1;
  };
  const quoted = (): string => {
    let out = '';
    i += 1; // opening quote
    while (i < header.length && header[i] !== '"') {
      if (header[i] === '\\') i += 1;
      out += header[i] ?? '';
      i += 1;
    }
    i += 1; // closing quote
    return out;
  };

  while (i < header.length) {
    skipSpaceAndCommas();
    const scheme = skip(TOKEN);
    if (!scheme) break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    for (;;) {
      skipSpaceAndCommas();
      const start = i;
      const name = skip(TOKEN);
      if (!name) break;
      skip(SPACE);
      if (header[i] !== '=') {
        i = start; // the next challenge's scheme (or a token68, which registries do not use)
        break;
      }
      i += 1;
      skip(SPACE);
      const value = header[i] === '"' ? quoted() : (skip(/[^,]*/y) ?? '').trim();
      challenge.params[name.toLowerCase()] = value;
    }
  }
  return challenges;
}
