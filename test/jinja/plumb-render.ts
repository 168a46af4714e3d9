/**
 * The one place the Jinja differential suite calls plumb's template engine.
 * Whoever changes the engine changes this adapter (and nothing else in the
 * suite): a case renders as plumb would render it for a `template` task's
 * source file (mode "template") or for a task argument string (mode
 * "expression", whose value is compared as JSON).
 *
 * What the oracle (test/oracle/jinja_render.py) gives a template-mode case, and
 * an engine that does the same must give it too:
 * - the case's `options` as the template module's options, over its defaults
 *   (trim_blocks on, lstrip_blocks off, newline_sequence "\n"), trailing newlines kept;
 * - the template action's variables, as if the task were
 *   `template: { src: templates/case.j2, dest: /etc/plumb/case.conf }` with the
 *   playbook in test/jinja/files (`filesDir`): ansible_managed ("Ansible managed"),
 *   template_path, template_fullpath, template_destpath, template_host;
 * - relative lookup('file'|'template') names resolved in `filesDir` (and its templates/);
 * - `c.env` set in the environment (lookup('env')).
 * Today's engine (src/template/render.ts) evaluates `{{ }}` expressions only:
 * no statements, comments, template options or lookups.
 */
import { renderString, renderValue, VarScope } from '../../src/template/render.js';
import type { JinjaCase } from './cases.js';

export type PlumbResult = { ok: true; text: string } | { ok: false; error: string };

export function renderCase(c: JinjaCase): PlumbResult {
  // The engine has no trim_blocks/lstrip_blocks/delimiter/newline settings: refuse rather than
  // render with the wrong ones and agree by accident.
  const options = Object.keys(c.options);
  if (options.length > 0) return { ok: false, error: `template options not supported: ${options.join(', ')}` };
  try {
    const scope = new VarScope(structuredClone(c.vars), { env: { ...process.env, ...c.env } });
    if (c.mode === 'expression') return { ok: true, text: JSON.stringify(renderValue(c.template, scope)) };
    return { ok: true, text: renderString(c.template, scope) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err) };
  }
}
