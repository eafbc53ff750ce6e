import picomatch from 'picomatch';
import { isRepositoryName } from './names.ts';

/**
 * A repository name or glob: `library/alpine`, `library/*` (one path
 * segment), `org/**` (any depth below org/). Wildcards stand for name
 * characters, so with each one read as a letter the pattern is a name.
 */
export function isRepositoryGlob(s: string): boolean {
  return s.length <= 255 && !/\*{3}/.test(s) && isRepositoryName(s.replace(/\*\*?/g, 'x'));
}

/**
 * Which of `patterns` (repository names and globs, see isRepositoryGlob)
 * first matches a repository name: `(name) => pattern | undefined`. `*` stays
 * within a segment and `**` crosses them, as in picomatch.
 */
export function repositoryMatcher(patterns: readonly string[]): (name: string) => string | undefined {
  const matchers = patterns.map((pattern) => ({ pattern, matches: picomatch(pattern, { dot: true }) }));
  return (name) => matchers.find((m) => m.matches(name))?.pattern;
}
