import { CronExpressionParser } from 'cron-parser';

const FIELDS_5 = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;
const FIELDS_6 = ['second', ...FIELDS_5] as const;

/**
 * What is wrong with a cron expression of 5 fields (6 with seconds first), as
 * BullMQ's job schedulers run it, or undefined if it is fine. The message
 * names the field at fault: each field is parsed alone by cron-parser (the
 * library BullMQ uses), the others `*`, so its own error is tied to the field
 * it came from; then the whole, for fields that never meet (`0 0 31 2 *`).
 */
export function cronProblem(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  const names = fields.length === 6 ? FIELDS_6 : fields.length === 5 ? FIELDS_5 : undefined;
  if (!names) {
    return `has ${fields.length} field${fields.length === 1 ? '' : 's'}; a cron expression has 5 (${FIELDS_5.join(' ')}) or 6 with seconds first`;
  }
  for (const [i, value] of fields.entries()) {
    const alone = fields.map((_, j) => (j === i ? value : '*')).join(' ');
    const problem = parseError(alone);
    if (problem) return `the ${names[i]} field (${value}) is invalid: ${problem}`;
  }
  const problem = parseError(fields.join(' '));
  return problem ? `its fields never match a date together: ${problem}` : undefined;
}

function parseError(cron: string): string | undefined {
  try {
    CronExpressionParser.parse(cron, { tz: 'UTC' }).next();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
