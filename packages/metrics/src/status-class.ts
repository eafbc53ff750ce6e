/** An HTTP status as a bounded label value; `error` when no response status was sent (the connection ended first). */
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'error';

/** `200` → `2xx`; undefined (no status sent) or anything outside 100-599 → `error`. */
export function statusClass(status: number | undefined): StatusClass {
  if (status === undefined || status < 100 || status > 599) return 'error';
  return `${Math.floor(status / 100)}xx` as StatusClass;
}
