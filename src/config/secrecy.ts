/**
 * The rule both validate and the engine apply to a value computed from a
 * secret (see engine/secrecy.ts): it is hidden by its bytes, or refused when
 * it cannot be.
 */
import type { HostScope } from './hostvars.js';
import { MIN_SECRET_LENGTH, type Redactor } from '../redactor.js';

/** The secret variables among those a render read, in a stable order. */
export function secretsRead(reads: Iterable<string>, secretNames: ReadonlySet<string>): string[] {
  return [...new Set(reads)].filter((name) => secretNames.has(name)).sort();
}

/**
 * Hide a value computed from secrets: every string in it and, for a list or
 * mapping, its JSON text (how it prints). Returns why it cannot be hidden, or undefined.
 */
export function hideDerived(value: unknown, redactor: Redactor): string | undefined {
  let why: string | undefined;
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.length >= MIN_SECRET_LENGTH) redactor.add(v);
      else why ??= `its value is shorter than ${MIN_SECRET_LENGTH} characters`;
    } else if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        visit(k);
        visit(x);
      }
    } else {
      why ??= `its value is not text (${v === null || v === undefined ? 'none' : `a ${typeof v}`})`;
    }
  };
  visit(value);
  if (value !== null && typeof value === 'object') {
    const text = JSON.stringify(value);
    if (text.length >= MIN_SECRET_LENGTH) redactor.add(text);
  }
  return why;
}

export function refusal(secrets: string[], why: string): string {
  const named = secrets.map((s) => `"${s}"`).join(', ');
  return `computed from secret${secrets.length === 1 ? '' : 's'} ${named} but ${why}, so it cannot be hidden in output (plumb hides secrets by their bytes; a value computed from a secret must be text of at least ${MIN_SECRET_LENGTH} characters)`;
}

/** validate's render of one template string: hidden like an argument leaf; returns the refusal, if any. */
export function renderHidden(scope: HostScope, template: string): string | undefined {
  const { value, reads } = scope.scope.track(() => scope.render(template));
  const secrets = secretsRead(reads, scope.secretNames);
  if (!secrets.length) return undefined;
  const why = hideDerived(value, scope.redactor);
  return why ? refusal(secrets, why) : undefined;
}
