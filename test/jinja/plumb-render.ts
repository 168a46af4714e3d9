/**
 * The one place the Jinja differential suite calls plumb's template engine.
 * A template-mode case renders as a `template` task's source file would
 * (src/engine/template-file.ts: the module's options, template_* variables,
 * lookups found in `filesDir` and its templates/); an expression-mode case as
 * a task argument string (native value, compared as JSON).
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileHost } from '../../src/engine/template-file.js';
import { syntaxOf } from '../../src/config/template-files.js';
import { renderValue, VarScope } from '../../src/template/render.js';
import { filesDir, type JinjaCase } from './cases.js';

export type PlumbResult = { ok: true; text: string } | { ok: false; error: string };

const files = fileHost((path, kind) => {
  if (path.startsWith('/')) return path;
  const sub = join(filesDir, kind === 'template' ? 'templates' : 'files', path);
  return existsSync(sub) ? sub : join(filesDir, path);
});

export function renderCase(c: JinjaCase): PlumbResult {
  try {
    const scope = new VarScope(structuredClone(c.vars), { env: { ...process.env, ...c.env }, files });
    if (c.mode === 'expression') return { ok: true, text: JSON.stringify(renderValue(c.template, scope)) };
    const path = join(filesDir, 'templates', 'case.j2');
    const nl =
      c.options.newline_sequence === '\r\n' || c.options.newline_sequence === '\\r\\n'
        ? '\r\n'
        : c.options.newline_sequence === '\r' || c.options.newline_sequence === '\\r'
          ? '\r'
          : '\n';
    const text = scope.renderFile(c.template, {
      file: 'templates/case.j2',
      syntax: syntaxOf(c.options as Record<string, unknown>),
      files,
      extra: {
        ansible_managed: 'Ansible managed',
        template_host: hostname(),
        template_path: 'templates/case.j2',
        template_fullpath: path,
        template_destpath: '/etc/plumb/case.conf',
      },
    });
    return { ok: true, text: nl === '\n' ? text : text.replace(/\n/g, nl) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err) };
  }
}
