/**
 * The one place errors become exit codes and messages. An expected failure
 * (a PlumbError) prints its own report and ends with its own exit code; only
 * an unexpected error shows its stack, and only with --verbose. Everything
 * printed goes through the redactor, then has its control characters escaped:
 * an error can quote a host (ssh, stderr).
 */
import { EXIT, PlumbError, type TextRedactor } from '../errors.js';
import { escapeControl } from '../report/escape.js';

/** Wrong usage of the command line itself (unknown option, missing argument). */
export class UsageError extends PlumbError {
  constructor(
    message: string,
    /** The command whose --help explains the fix. */
    readonly command?: string,
  ) {
    super(message);
  }

  protected override describe(): string {
    const hint = this.command ? `run "plumb ${this.command} --help" for usage` : 'run "plumb --help" for usage';
    return `plumb: ${this.message}\n${hint}`;
  }
}

export interface ErrorReport {
  code: number;
  text: string;
}

export function reportError(err: unknown, options: { verbose?: boolean; redactor?: TextRedactor } = {}): ErrorReport {
  const report = errorReport(err, options);
  return { code: report.code, text: escapeControl(report.text) };
}

function errorReport(err: unknown, options: { verbose?: boolean; redactor?: TextRedactor }): ErrorReport {
  if (err instanceof PlumbError) return { code: err.exitCode, text: err.report(options.redactor) };
  const redact = (s: string) => (options.redactor ? options.redactor.redact(s) : s);
  const e = err instanceof Error ? err : new Error(String(err));
  if (options.verbose) return { code: EXIT.error, text: redact(`plumb: unexpected error: ${e.stack ?? e.message}`) };
  return { code: EXIT.error, text: redact(`plumb: unexpected error: ${e.message}\n(run with --verbose for details)`) };
}
