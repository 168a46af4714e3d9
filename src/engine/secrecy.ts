/**
 * Secrecy follows the data, not the bytes: a value computed from a secret
 * variable (through filters, concatenation or other variables) is itself a
 * secret. Every such value is added to the host's redactor before anything
 * can print it, so modules see it through `ctx.hasSecret`/`ctx.redact`, and
 * their changes say "(secret)" without before/after/diff.
 *
 * A computed value that cannot be hidden by its bytes is refused: text
 * shorter than 4 characters, or a number, boolean or none (`{{ pw | length }}`
 * would print, and be matched, as "12"). The error names the argument and
 * the secret, never the value.
 */
import type { HostScope } from '../config/hostvars.js';
import { ModuleError, type Change, type ModuleContext } from '../modules/types.js';
import { REDACTED } from '../redactor.js';
import { hideDerived, refusal, secretsRead } from '../config/secrecy.js';
import type { FileRenderOptions, RenderedLeaf } from '../template/render.js';

/**
 * Hide every argument leaf computed from a secret. Returns the refusal for
 * the first leaf that cannot be hidden ("copy.content: computed from ..."),
 * after every other leaf has been hidden.
 */
export function hideSecretLeaves(module: string, leaves: RenderedLeaf[], scope: HostScope): string | undefined {
  let first: string | undefined;
  for (const leaf of leaves) {
    const secrets = secretsRead(leaf.reads, scope.secretNames);
    if (!secrets.length) continue;
    const why = hideDerived(leaf.value, scope.redactor);
    if (why) first ??= `${[module, ...leaf.path].join('.')}: ${refusal(secrets, why)}`;
  }
  return first;
}

/** The template module's render of a local file: content that read a secret is secret. */
export function renderFileHidden(scope: HostScope, text: string, file?: FileRenderOptions): string {
  const { value, reads } = scope.scope.track(() => (file ? scope.scope.renderFile(text, file) : scope.render(text)));
  const content = String(value);
  const secrets = secretsRead(reads, scope.secretNames);
  if (secrets.length) {
    const why = hideDerived(content, scope.redactor);
    if (why) throw new ModuleError(`template: the rendered content is ${refusal(secrets, why)}`);
  }
  return content;
}

/**
 * The engine's check on what a module returned: a change that shows a secret
 * or anything computed from one (its arguments computed from a secret are all
 * in the redactor by now), or that the module already redacted, is a secret
 * change — redacted summary and target, no before/after/diff — whatever the
 * module did. Changes that show no secret stay reviewable (a credentials
 * file's mode 0644 → 0600 is worth seeing).
 */
export function guardChanges(changes: Change[], ctx: ModuleContext): Change[] {
  return changes.map((c) => {
    const shown = [c.summary, c.target, c.diff ?? '', JSON.stringify(c.before) ?? '', JSON.stringify(c.after) ?? ''];
    const redacted = c.summary.includes(REDACTED) || c.target.includes(REDACTED);
    if (!c.secret && !redacted && !shown.some((t) => ctx.hasSecret(t))) return c;
    const summary = ctx.redact(c.summary);
    return { summary: summary.includes('(secret)') ? summary : `${summary} (secret)`, target: ctx.redact(c.target), secret: true };
  });
}
