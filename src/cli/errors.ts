/**
 * The one place errors become exit codes and messages. Known errors print one
 * readable message; only an unexpected error shows its stack, and only with
 * --verbose. Everything printed goes through the redactor, then has its
 * control characters escaped: an error can quote a host (ssh, stderr).
 */
import { formatDiagnostics, ValidationFailed } from '../source/diagnostics.js';
import { PlumbError } from '../errors.js';
import { PatternError } from '../inventory/patterns.js';
import { TemplateError } from '../template/errors.js';
import { escapeControl } from '../report/escape.js';
import type { Redactor } from '../redactor.js';

export const EXIT = {
  ok: 0,
  /** Bad input, validation errors, a failed host (apply). */
  error: 1,
  /** plan: changes pending. */
  changes: 2,
  /** Some host unreachable. */
  unreachable: 4,
} as const;


/** Wrong usage of the command line itself (unknown option, missing argument). */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose --help explains the fix. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ErrorReport {
  code: number;
  text: string;
}

export function reportError(err: unknown, options: { verbose?: boolean; redactor?: Redactor } = {}): ErrorReport {
  const report = errorReport(err, options);
  return { code: report.code, text: escapeControl(report.text) };
}

function errorReport(err: unknown, options: { verbose?: boolean; redactor?: Redactor }): ErrorReport {
  const redact = (s: string) => (options.redactor ? options.redactor.redact(s) : s);
  if (err instanceof ValidationFailed) {
    const redactor = options.redactor ?? err.redactor;
    const body = formatDiagnostics(err.diagnostics, err.sources, redactor);
    const errors = err.errors.length;
    const files = new Set(err.errors.map((d) => d.file)).size;
    const tail = `validation failed: ${errors} error${errors === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}`;
    return { code: EXIT.error, text: `${body}\n\n${tail}` };
  }
  if (err instanceof UsageError) {
    const hint = err.command ? `run "plumb ${err.command} --help" for usage` : 'run "plumb --help" for usage';
    return { code: EXIT.error, text: redact(`plumb: ${err.message}\n${hint}`) };
  }
  if (err instanceof TemplateError || err instanceof PatternError || err instanceof PlumbError) {
    return { code: EXIT.error, text: redact(`plumb: ${err.message}`) };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  if (options.verbose) return { code: EXIT.error, text: redact(`plumb: unexpected error: ${e.stack ?? e.message}`) };
  return { code: EXIT.error, text: redact(`plumb: unexpected error: ${e.message}\n(run with --verbose for details)`) };
}
