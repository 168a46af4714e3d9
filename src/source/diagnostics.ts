/**
 * Positioned errors and warnings. Loading collects every problem of every file
 * into one list and throws it once (ValidationFailed), so a user fixes a
 * playbook in one round instead of one error per run.
 */
import type { SourcePos } from './pos.js';
import { Redactor } from '../redactor.js';
import { PlumbError, type TextRedactor } from '../errors.js';
import type { VaultContext } from './vault.js';

type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  file: string;
  line: number; // 1-based
  column: number; // 1-based
  /** How many characters the caret underline covers (>= 1). */
  length?: number;
  /** Key path such as plays[0].tasks[2].copy.mode, when the problem has one. */
  path?: string;
  message: string;
}

/** Source texts by file name, for the caret excerpts. */
export type SourceTexts = Map<string, string>;

export class ValidationFailed extends PlumbError {
  constructor(
    readonly diagnostics: Diagnostic[],
    readonly sources: SourceTexts = new Map(),
    /** Secret values known when loading failed: printing the errors must hide them. */
    readonly redactor: Redactor = new Redactor(),
  ) {
    // The message alone is useful too (callers that print err.message): every error's headline, redacted.
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super(redactor.redact(errors.map(headline).join('\n') || 'validation failed'));
  }

  /** Every diagnostic with its caret excerpt, then a count. */
  override report(redactor: TextRedactor = this.redactor): string {
    const body = formatDiagnostics(this.diagnostics, this.sources, redactor);
    const files = new Set(this.errors.map((d) => d.file)).size;
    const n = this.errors.length;
    return `${body}\n\nvalidation failed: ${n} error${n === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}`;
  }

  get errors(): Diagnostic[] {
    return this.diagnostics.filter((d) => d.severity === 'error');
  }
  get warnings(): Diagnostic[] {
    return this.diagnostics.filter((d) => d.severity === 'warning');
  }
}

/** Collects diagnostics while loading; `throwIfErrors` ends a load that found any error. */
export class DiagnosticList {
  readonly items: Diagnostic[] = [];
  readonly sources: SourceTexts = new Map();
  /** Every file read while loading, with its digest (saved plans record them). */
  readonly files: Array<{ path: string; sha256: string }> = [];
  /** Vault passwords for this load, and every value decrypted so far. */
  vault?: VaultContext;

  /** `redactor`: secret values read so far (a --secrets file, literal play secrets, vault values). */
  constructor(readonly redactor = new Redactor()) {}

  /** A list for a trial read whose diagnostics may be dropped; it decrypts and hides with this load's vault and redactor. */
  scratch(): DiagnosticList {
    const d = new DiagnosticList(this.redactor);
    d.vault = this.vault;
    return d;
  }

  add(d: Diagnostic): void {
    this.items.push(d);
  }
  error(pos: SourcePos & { length?: number }, message: string, path?: string): void {
    this.items.push({ severity: 'error', file: pos.file, line: pos.line, column: pos.column, length: pos.length, path, message });
  }
  warning(pos: SourcePos & { length?: number }, message: string, path?: string): void {
    this.items.push({ severity: 'warning', file: pos.file, line: pos.line, column: pos.column, length: pos.length, path, message });
  }
  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
  sorted(): Diagnostic[] {
    return sortDiagnostics(this.items);
  }
  throwIfErrors(): void {
    if (this.hasErrors) throw new ValidationFailed(this.sorted(), this.sources, this.redactor);
  }
}

export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  // Stable: equal positions keep the order they were found in.
  return list
    .map((d, i) => [d, i] as const)
    .sort(([a, ia], [b, ib]) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || ia - ib)
    .map(([d]) => d);
}

/** `file:line:col: error: path: message` — the line tests and editors match on. */
export function headline(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.path ? `${d.path}: ` : ''}${d.message}`;
}

/** The headline plus the offending source line with a caret under the problem. */
export function formatDiagnostic(d: Diagnostic, sources?: SourceTexts, redactor?: TextRedactor): string {
  const out = [headline(d)];
  const text = sources?.get(d.file);
  if (text !== undefined) {
    const lineText = sourceLine(text, d.line);
    if (lineText !== undefined && lineText.length <= 500) {
      const gutter = String(d.line);
      const shown = lineText.replace(/\t/g, ' ');
      const length = Math.max(1, Math.min(d.length ?? 1, Math.max(1, shown.length - d.column + 1)));
      out.push(` ${gutter} | ${shown}`);
      out.push(` ${' '.repeat(gutter.length)} | ${' '.repeat(Math.max(0, d.column - 1))}${'^'.repeat(length)}`);
    }
  }
  const text2 = out.join('\n');
  return redactor ? redactor.redact(text2) : text2;
}

export function formatDiagnostics(list: Diagnostic[], sources?: SourceTexts, redactor?: TextRedactor): string {
  return list.map((d) => formatDiagnostic(d, sources, redactor)).join('\n\n');
}

function sourceLine(text: string, line: number): string | undefined {
  let start = 0;
  for (let i = 1; i < line; i++) {
    const next = text.indexOf('\n', start);
    if (next < 0) return undefined;
    start = next + 1;
  }
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  return text.slice(start, end).replace(/\r$/, '');
}
