/** One step into a JSON document: an object key or an array index. */
export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * `layers[0].digest`, `annotations["org.opencontainers.image.title"]`: the
 * form people read in error messages and can paste into a jq filter.
 */
export function formatPath(segments: readonly PathSegment[]): string | undefined {
  if (segments.length === 0) return undefined;
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
