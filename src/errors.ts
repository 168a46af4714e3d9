/** plumb's exit codes: the one table every command and error maps to. */
export const EXIT = {
  ok: 0,
  /** Bad input, validation errors, a failed or refused host. */
  error: 1,
  /** plan: changes pending. */
  changes: 2,
  /** Some host unreachable. */
  unreachable: 4,
  /** Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

/** Anything that hides secret values in text (the Redactor). */
export interface TextRedactor {
  redact(text: string): string;
}

/**
 * An expected failure with a message a user acts on (missing secret, stale
 * plan, unknown host pattern): printed as one line, no stack, and ending the
 * command with `exitCode`. Anything else that reaches the CLI is a bug in
 * plumb and is reported as an unexpected error.
 */
export class PlumbError extends Error {
  readonly exitCode: number = EXIT.error;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }

  /** What the CLI prints, redacted; subclasses add context (caret excerpts, a usage hint). */
  report(redactor?: TextRedactor): string {
    const text = this.describe();
    return redactor ? redactor.redact(text) : text;
  }

  protected describe(): string {
    return `plumb: ${this.message}`;
  }
}
