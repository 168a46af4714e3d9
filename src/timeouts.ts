/**
 * Durations plumb hands to timers. Node keeps a timer's delay in a signed
 * 32-bit millisecond count: a longer delay is replaced by 1 ms, so a
 * "one month" timeout would fire at once. Every duration is checked here.
 */

const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** 2147483 s, about 24.8 days. */
const MAX_TIMEOUT_S = Math.floor(MAX_TIMEOUT_MS / 1000);
const LIMIT_TEXT = `at most ${MAX_TIMEOUT_S} seconds (about 24.8 days, the longest timer Node.js can set)`;

/** Why `ms` cannot be a timer delay, or undefined when it can. 0 means "no timeout" and is allowed. */
function timeoutMsProblem(ms: number): string | undefined {
  if (ms === 0) return undefined;
  if (!Number.isFinite(ms) || ms < 1) return 'must be a number of seconds of at least 0.001 (1 ms)';
  if (ms > MAX_TIMEOUT_MS) return `must be ${LIMIT_TEXT}`;
  return undefined;
}

/** A timeout in seconds as typed by a user (decimal, optional exponent); a problem string when unusable. */
export function parseTimeoutSeconds(text: string): number | string {
  // Number() also takes hex, binary and whitespace; a duration is written in decimal.
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return 'must be a positive number of seconds';
  const s = Number(text);
  if (s === 0) return 'must be a positive number of seconds';
  return timeoutMsProblem(s * 1000) ?? s;
}

/** Throw (for internal callers) when `ms` cannot be a timer delay. */
export function checkTimeoutMs(ms: number, what: string): void {
  const problem = timeoutMsProblem(ms);
  if (problem) throw new RangeError(`${what} ${problem}, got ${ms / 1000} s`);
}

/**
 * ssh_config TIME FORMATS: seconds, or a sequence of number+unit (s m h d w),
 * e.g. `90`, `1m`, `1h30m`. Returns milliseconds or a problem string.
 */
export function parseSshTime(text: string): number | string {
  if (!/^(\d+[smhdw]?)+$/i.test(text)) return `invalid time value ${JSON.stringify(text)}`;
  const unit: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let seconds = 0;
  for (const [, n, u] of text.matchAll(/(\d+)([smhdw]?)/gi)) seconds += Number(n) * unit[u.toLowerCase()];
  return timeoutMsProblem(seconds * 1000) ?? seconds * 1000;
}
