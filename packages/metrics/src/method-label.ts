/** The methods Cistern's HTTP apps answer; every other of the 30-odd that Node's parser accepts is one label value. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The `method` label of a request: its method when Cistern answers that
 * method anywhere, else `other`, so that a client sending PROPFIND, MKCOL
 * and the rest cannot multiply a route's series by the methods Node accepts.
 */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'other';
}
