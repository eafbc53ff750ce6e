import { header } from './body.ts';

/** What an upstream said of its request quota; each field only when it said it. */
export interface RateLimitInfo {
  /** Requests allowed in the window (`ratelimit-limit: 100;w=21600`). */
  limit?: number;
  /** Requests left in the window (`ratelimit-remaining: 76;w=21600`). */
  remaining?: number;
  windowSeconds?: number;
}

type Headers = Record<string, string | string[] | undefined>;

const integer = (text: string | undefined): number | undefined => (text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined);
/** A parameter `name=<digits>` of a header item (`w=21600`, `q=100`, `remaining=50`). */
const param = (item: string, name: string): number | undefined => integer(new RegExp(`(?:^|[;,\\s])${name}=(\\d+)`).exec(item)?.[1]);
/** The bare number an item starts with (`100;w=21600`). */
const leading = (item: string | undefined): number | undefined => integer(/^\s*(\d+)/.exec(item ?? '')?.[1]);
/** The first item of a structured-field list (`"default";r=50;t=30, "daily";r=900`): the policy that applies first. */
const firstItem = (value: string): string => value.split(/,(?=\s*")/)[0] ?? value;

/**
 * The quota an upstream's response announces, from any of the forms in use:
 * Docker Hub's and the early IETF drafts' `RateLimit-Limit` / `RateLimit-Remaining`
 * (`100;w=21600`), the `RateLimit: limit=100, remaining=50, reset=30` field of
 * draft 7, and the `RateLimit: "default";r=50;t=30` with `RateLimit-Policy:
 * "default";q=100;w=60` of the later drafts. Undefined when the response
 * carries none of them.
 */
export function readRateLimit(headers: Headers): RateLimitInfo | undefined {
  const limitHeader = header(headers, 'ratelimit-limit');
  const remainingHeader = header(headers, 'ratelimit-remaining');
  const combined = header(headers, 'ratelimit');
  const policy = header(headers, 'ratelimit-policy');
  if (limitHeader === undefined && remainingHeader === undefined && combined === undefined && policy === undefined) return undefined;
  const current = combined === undefined ? '' : firstItem(combined);
  const quota = policy === undefined ? '' : firstItem(policy);
  const limit = leading(limitHeader) ?? param(current, 'limit') ?? param(quota, 'q') ?? leading(quota);
  const remaining = leading(remainingHeader) ?? param(current, 'remaining') ?? param(current, 'r');
  const windowSeconds = param(remainingHeader ?? '', 'w') ?? param(limitHeader ?? '', 'w') ?? param(quota, 'w');
  const info: RateLimitInfo = {
    ...(limit === undefined ? {} : { limit }),
    ...(remaining === undefined ? {} : { remaining }),
    ...(windowSeconds === undefined ? {} : { windowSeconds }),
  };
  return Object.keys(info).length === 0 ? undefined : info;
}
