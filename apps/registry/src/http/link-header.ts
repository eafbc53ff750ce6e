/** `Link: <path?query>; rel="next"` for a partial page; relative, as Distribution sends it. */
export function nextLink(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, value);
  return `<${path}?${query.toString()}>; rel="next"`;
}

/** A query parameter as one string (the last, when a client repeats it). */
export function queryString(value: unknown): string | undefined {
  if (Array.isArray(value)) return queryString(value[value.length - 1]);
  return typeof value === 'string' ? value : undefined;
}
