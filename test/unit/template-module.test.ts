import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostScope } from '../../src/config/hostvars.js';
import { findLocal } from '../../src/config/template-files.js';
import { renderTemplateFile } from '../../src/engine/template-file.js';
import { templateArgs } from '../../src/modules/template.js';
import { Redactor } from '../../src/redactor.js';
import { VarScope } from '../../src/template/render.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plumb-tpl-'));
  mkdirSync(join(dir, 'templates'));
  mkdirSync(join(dir, 'files'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function hostScope(vars: Record<string, unknown>, secretNames: string[] = []): HostScope {
  const scope = new VarScope(vars, { env: {} });
  return {
    host: { name: 'mx1' } as HostScope['host'],
    vars,
    redactor: new Redactor(),
    secretNames: new Set(secretNames),
    render: (v, pos) => scope.render(v, pos),
    condition: (e, pos) => scope.condition(e, pos),
    scope,
  };
}

function render(text: string, vars: Record<string, unknown>, args: Record<string, unknown> = {}, scope = hostScope(vars)): string {
  writeFileSync(join(dir, 'templates', 't.j2'), text);
  const a = templateArgs.parse({ src: 't.j2', dest: '/etc/t.conf', ...args });
  const locate = (path: string, kind?: 'file' | 'template') => findLocal(path, { module: kind === 'file' ? 'copy' : 'template', searchDirs: [dir] });
  return renderTemplateFile(scope, locate, a.src, {
    dest: a.dest,
    trimBlocks: a.trim_blocks,
    lstripBlocks: a.lstrip_blocks,
    newlineSequence: a.newline_sequence,
    blockStart: a.block_start_string,
    blockEnd: a.block_end_string,
    variableStart: a.variable_start_string,
    variableEnd: a.variable_end_string,
    commentStart: a.comment_start_string,
    commentEnd: a.comment_end_string,
  });
}

describe('the template module renders as Ansible', () => {
  it('trim_blocks on and lstrip_blocks off by default, trailing newline kept', () => {
    expect(render('a\n{% if x %}\n  b\n  {% endif %}\nc\n', { x: true })).toBe('a\n  b\n  c\n');
  });
  it('lstrip_blocks, trim_blocks false and newline_sequence as module arguments', () => {
    expect(render('a\n  {% if x %}\nb\n  {% endif %}\n', { x: true }, { lstrip_blocks: true })).toBe('a\nb\n');
    expect(render('{% if x %}\nb{% endif %}\n', { x: true }, { trim_blocks: false })).toBe('\nb\n');
    expect(render('a\nb\n', {}, { newline_sequence: '\\r\\n' })).toBe('a\r\nb\r\n');
  });
  it('other delimiters', () => {
    expect(
      render('<< x >> [% if x %]y[% endif %] {{ kept }}', { x: 1 }, { variable_start_string: '<<', variable_end_string: '>>', block_start_string: '[%', block_end_string: '%]' }),
    ).toBe('1 y {{ kept }}');
  });
  it('ansible_managed and the template_* variables', () => {
    expect(render('# {{ ansible_managed }} {{ template_destpath }} {{ template_path | basename }}', {})).toBe('# Ansible managed /etc/t.conf t.j2');
  });
  it("lookup('file') and include find files as src is found", () => {
    writeFileSync(join(dir, 'files', 'motd'), 'hello\n');
    writeFileSync(join(dir, 'templates', 'part.j2'), 'part {{ x }}');
    expect(render("{{ lookup('file', 'motd') }}|{% include 'part.j2' %}", { x: 2 })).toBe('hello|part 2');
  });
  it('an error points at the template file', () => {
    expect(() => render('ok\n{{ nope }}', {})).toThrow('t.j2:2:4: undefined variable "nope"');
  });
  it('a template that reads a secret (through a filter and a loop) renders a secret', () => {
    const scope = hostScope({ pw: 's3cret-pass', users: ['a'] }, ['pw']);
    const out = render('{% for u in users %}{{ u }}:{{ pw | upper }}{% endfor %}\n', {}, {}, scope);
    // Ansible pads the output back to the source's trailing newline.
    expect(out).toBe('a:S3CRET-PASS\n');
    expect(scope.redactor.has(out)).toBe(true);
    expect(scope.redactor.has('unrelated')).toBe(false);
  });
});
