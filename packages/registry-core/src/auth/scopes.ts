/** A `scope` parameter of a token request: `repository:<name>:<action>[,<action>]`. */
export interface RequestedScope {
  type: string;
  name: string;
  actions: string[];
}

/**
 * Parses one scope. The name may itself hold colons only in the registry
 * host form Cistern never uses, so the type is before the first colon and
 * the actions after the last.
 */
export function parseScope(scope: string): RequestedScope | null {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return null;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

/** Clients send several scopes as repeated parameters, some as one space-separated value. */
export function requestedScopes(values: readonly string[]): RequestedScope[] {
  return values.flatMap((v) => v.split(' ')).flatMap((s) => parseScope(s) ?? []);
}
