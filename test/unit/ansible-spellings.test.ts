/**
 * Ansible's spellings of a task (src/config/ansible-task.ts, key-value.ts): the key=value parser
 * against ansible-core's own parse_kv on hostile strings, module names, what a loaded task becomes,
 * the positioned errors and warnings, and an Ansible module plumb lacks failing only where it runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { resolveModule } from '../../src/config/ansible-task.js';
import { parseKeyValues } from '../../src/config/key-value.js';
import { loadPlaybook } from '../../src/config/playbook.js';
import { ANSIBLE_COMMAND_OPTIONS } from '../../src/modules/command.js';
import { DiagnosticList } from '../../src/source/diagnostics.js';
import { runCli } from '../in-process.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plumb-spellings-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function load(text: string) {
  const file = join(dir, 'site.yml');
  writeFileSync(file, text);
  const diags = new DiagnosticList();
  const playbook = loadPlaybook(file, diags);
  const lines = diags.items.map((d) => `${d.line}:${d.column}: ${d.severity}: ${d.message}`);
  return { playbook, lines };
}

const task = (text: string) => {
  const { playbook, lines } = load(`- hosts: all\n  tasks:\n${text}`);
  return { task: playbook?.plays[0]?.tasks[0], lines };
};

/** Strings parse_kv is known to be picky about: quotes, escapes, Jinja, spacing, equals signs. */
const KV_CASES = [
  'name=postfix state=restarted',
  'src=a dest=/b mode=0644',
  'dest=/x content="a b  c"',
  "dest=/x content='it''s'",
  'content="line one\\nline two\\n" dest=/e',
  'content=k=v dest=/f',
  'a\\=b dest=/g',
  'msg="{{ a | default(\'x y\') }}" dest=/h',
  'dest={{ d }}/x content="{% if a %}1{% endif %}"',
  'content="\\x41\\u00e9\\t" dest=/i',
  ' dest=/j  mode=600 ',
  'dest="/k" content=""',
  'content=\'"quoted"\' dest=/l',
  'dest=/m content=a\\\\b',
];
const COMMAND_CASES = [
  'touch /x creates=/x',
  'creates=/x touch /x',
  'echo a=b > /tmp/o chdir=/tmp',
  'FOO=bar; echo $FOO > /o creates=/o removes=/r',
  'echo "a=b c"  d   e',
  'grep -q "x y" /etc/f || echo creates=/nope',
  'echo {{ a }} {{ b | default("c d") }} executable=/bin/bash',
  'printf "%s\\n" x\ny creates=/x',
  'echo one\n  two   three\n',
  "sh -c 'echo a=1 b=2' stdin=hello warn=no",
];

describe('key=value: the same result as ansible-core parse_kv', () => {
  const python = '/usr/bin/python3';
  const oracle = spawnSync(python, ['-c', 'import ansible'], { encoding: 'utf8' }).status === 0;
  const runOracle = oracle || process.env.CI === 'true';

  it.skipIf(!runOracle)('agrees on every case, free form or not', () => {
    const cases = [...KV_CASES.map((t) => ({ text: t, raw: false })), ...COMMAND_CASES.map((t) => ({ text: t, raw: true }))];
    const script = [
      'import json, sys',
      'from ansible.parsing.splitter import parse_kv',
      'print(json.dumps([parse_kv(c["text"], check_raw=c["raw"]) for c in json.load(sys.stdin)]))',
    ].join('\n');
    const r = spawnSync(python, ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const expected = JSON.parse(r.stdout) as Array<Record<string, string>>;
    const disagreements: string[] = [];
    cases.forEach((c, i) => {
      const { _raw_params: free, ...options } = expected[i];
      const ours = parseKeyValues(c.text, c.raw ? ANSIBLE_COMMAND_OPTIONS : undefined);
      // Whitespace at the very end of a command line is not the command's (Ansible keeps it, plumb may not).
      const same = JSON.stringify(ours.options) === JSON.stringify(options) && (ours.free ?? '').trimEnd() === (free ?? '').trimEnd();
      if (!same) disagreements.push(`${JSON.stringify(c.text)}: ansible ${JSON.stringify(expected[i])}, plumb ${JSON.stringify(ours)}`);
    });
    console.log(`key=value differential: ${cases.length - disagreements.length}/${cases.length} strings parse alike`);
    expect(disagreements).toEqual([]);
  });

  it('refuses unbalanced quotes and Jinja blocks', () => {
    expect(() => parseKeyValues('dest=/x content="open', undefined)).toThrow(/unbalanced/);
    expect(() => parseKeyValues('dest={{ x', undefined)).toThrow(/unbalanced/);
  });
});

describe('module names', () => {
  it.each([
    ['copy', 'plumb copy'],
    ['ansible.builtin.copy', 'plumb copy'],
    ['ansible.legacy.service', 'plumb service'],
    ['postconf', 'plumb postconf'],
    ['ansible.builtin.postconf', 'unknown'],
    ['yum', 'ansible ansible.builtin'],
    ['ansible.builtin.systemd', 'plumb systemd'],
    ['ansible.builtin.git', 'ansible ansible.builtin'],
    ['ufw', 'plumb ufw'],
    ['modprobe', 'ansible community.general'],
    ['mount', 'ansible ansible.posix'],
    ['community.general.modprobe', 'ansible community.general'],
    ['community.mysql.mysql_user', 'ansible community.mysql'],
    ['ansible.builtin.coppy', 'unknown'],
    ['servce', 'unknown'],
  ])('%s → %s', (key, expected) => {
    const r = resolveModule(key);
    expect(r.kind === 'plumb' ? `plumb ${r.module}` : r.kind === 'ansible' ? `ansible ${r.where}` : 'unknown').toBe(expected);
  });
});

describe('a task as Ansible spells it becomes the task plumb means', () => {
  it.each<[string, string, unknown]>([
    ['key=value, FQCN', '    - ansible.builtin.service: name=postfix state=restarted enabled=yes', { name: 'postfix', state: 'restarted', enabled: true }],
    [
      'apt aliases and a comma list',
      '    - apt: pkg=postfix,mailutils update-cache=yes cache_valid_time=600',
      { name: ['postfix', 'mailutils'], update_cache: true, cache_valid_time: 600 },
    ],
    ['file aliases', '    - file: { dest: /srv/x, state: directory, mode: 0755 }', { path: '/srv/x', state: 'directory', mode: '0755' }],
    ['0o octal', '    - file: { name: /srv/x, state: directory, mode: 0o750 }', { path: '/srv/x', state: 'directory', mode: '0750' }],
    ['lineinfile aliases', '    - lineinfile: { destfile: /etc/f, regex: "^a=", value: a=1 }', { path: '/etc/f', regexp: '^a=', line: 'a=1' }],
    ['command options out of the command', '    - command: touch /x creates=/x chdir=/tmp', { cmd: 'touch /x', creates: '/x', chdir: '/tmp' }],
    ['args keyword under the module arguments', '    - command: echo hi\n      args: { chdir: /tmp, creates: /y }', { cmd: 'echo hi', chdir: '/tmp', creates: '/y' }],
    ['module arguments win over args', '    - copy: dest=/a content=x\n      args: { dest: /b, mode: "0600" }', { dest: '/a', content: 'x', mode: '0600' }],
    ['numbers where a string is meant', '    - file: { path: /x, owner: 0, group: 0 }', { path: '/x', owner: '0', group: '0' }],
    ['boolean strings in a mapping', '    - copy: { dest: /x, content: y, backup: "no" }', { dest: '/x', content: 'y', backup: false }],
  ])('%s', (_name, text, args) => {
    const { task: t, lines } = task(text);
    expect(lines).toEqual([]);
    expect(t?.args).toEqual(args);
  });

  it('YAML 1.1 booleans on keywords: plain yes/no/on/off are booleans, a quoted "yes" is not', () => {
    const good = load('- hosts: all\n  become: yes\n  tasks:\n    - command: "true"\n      become: no\n      ignore_errors: on\n      when: yes\n      changed_when: off\n');
    expect(good.lines).toEqual([]);
    const play = good.playbook!.plays[0];
    expect([play.become, play.tasks[0].become, play.tasks[0].ignore_errors, play.tasks[0].when, play.tasks[0].changed_when]).toEqual([true, false, true, 'true', false]);
    const quoted = task('    - command: "true"\n      ignore_errors: "yes"');
    expect(quoted.lines).toEqual(['4:22: error: expected true or false, found the string "yes"']);
  });

  it('listen: a notify reaches every handler listening on the topic, and handlers by name', () => {
    const { playbook, lines } = load(
      [
        '- hosts: all',
        '  tasks:',
        '    - { copy: { dest: /a, content: x }, notify: reload mail }',
        '    - { copy: { dest: /b, content: y }, notify: [postmap, reload mail] }',
        '  handlers:',
        '    - { name: postmap, command: postmap /etc/postfix/x }',
        '    - { name: reload postfix, listen: reload mail, service: name=postfix state=reloaded }',
        '    - { listen: [reload mail, other], command: echo anonymous }',
        '',
      ].join('\n'),
    );
    expect(lines).toEqual([]);
    const [a, b] = playbook!.plays[0].tasks;
    expect(a.notify).toEqual(['reload postfix', 'command: echo anonymous']);
    expect(b.notify).toEqual(['postmap', 'reload postfix', 'command: echo anonymous']);
  });
});

describe('positioned errors and warnings', () => {
  it.each<[string, string, string[]]>([
    ['a word that is not key=value', '    - copy: dest=/x hello', ['3:13: error: "hello" is not key=value: copy takes key=value pairs or a mapping']],
    ['unbalanced quotes', '    - copy: dest=/x content="open', ['3:13: error: unbalanced quotes or Jinja block in key=value arguments; quote the whole value or use a mapping']],
    ['an alias beside its argument', '    - file: { path: /a, dest: /b, state: directory }', ['3:25: error: "dest" is Ansible\'s alias of "path", which is also set; keep one']],
    ['args that is not a mapping', '    - command: echo\n      args: "{{ x }}"', ['4:13: error: args: must be a mapping of the module arguments']],
    ['listen on a task', '    - command: echo\n      listen: x', ['4:7: error: "listen" belongs on a handler: it names topics a notify may use']],
    [
      'an unknown key=value argument',
      '    - service: name=postfix stat=started',
      ['3:16: error: unknown key "stat" (did you mean "state"?)', '3:16: error: service needs `state` or `enabled`'],
    ],
    [
      'a command option plumb lacks',
      '    - shell: echo hi strip_empty_ends=false',
      ['3:14: error: unknown key "strip_empty_ends"; expected one of: cmd, executable, creates, removes, unless, chdir, stdin, stdin_add_newline'],
    ],
    ['a wrong value inside an alias', '    - file: { name: relative, state: directory }', ['3:21: error: not an absolute path (it must start with /)']],
    [
      'decimal mode (Ansible: 01204)',
      '    - file: { path: /x, mode: 644 }',
      ['3:31: error: mode must be a quoted octal string such as "0644": YAML reads 644 as a decimal number'],
    ],
    [
      'FQCN of an Ansible module plumb lacks',
      '    - ansible.builtin.git: repo=x dest=/srv/x',
      [
        '3:7: warning: "ansible.builtin.git" is an Ansible module (ansible.builtin) that plumb does not have: its arguments are not checked, and the task fails on any host where it runs',
      ],
    ],
    [
      'block is a keyword, not a module: under an FQCN it is an unknown key (Ansible cannot resolve that action either)',
      '    - ansible.builtin.block: []',
      [expect.stringMatching(/^3:7: error: unknown key "ansible\.builtin\.block" in task; modules: /)],
    ],
    [
      'an include under its FQCN is the include (its file is looked for)',
      '    - ansible.builtin.include_tasks: x.yml',
      [expect.stringMatching(/^3:7: error: include_tasks: cannot find "x\.yml"/)],
    ],
    ['a typo stays an error', '    - lineinfil: path=/x line=y', ['3:7: error: unknown key "lineinfil" in task (did you mean "lineinfile"?)']],
  ])('%s', (_name, text, expected) => {
    expect(task(text).lines).toEqual(expected);
  });
});

describe('an Ansible module plumb lacks', () => {
  const inventory = () => {
    const file = join(dir, 'inventory.yml');
    writeFileSync(file, stringify({ all: { hosts: { here: { connection: 'local' } } } }));
    return file;
  };
  const playbook = (family: string) => {
    const file = join(dir, 'site.yml');
    writeFileSync(
      file,
      stringify([
        {
          hosts: 'all',
          vars: { os_family: family },
          tasks: [
            { name: 'marker', copy: { dest: join(dir, 'marker'), content: 'x\n' } },
            { name: 'httpd on RedHat', yum: 'name=httpd state=present', when: "os_family == 'RedHat'" },
          ],
          handlers: [{ name: 'never notified', 'community.general.modprobe': 'name=dummy state=present' }],
        },
      ]),
    );
    return file;
  };
  const env = () => ({ PATH: process.env.PATH, PLUMB_STATE_DIR: join(dir, 'state') });

  it('validates with a warning; plan and apply skip it where its when is false', async () => {
    const inv = inventory();
    const pb = playbook('Debian');
    const v = await runCli(['validate', pb, '-i', inv], env());
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toMatch(/site\.yml:\d+:\d+: warning: .*"yum" is an Ansible module \(ansible\.builtin\) that plumb does not have/);
    expect(v.stderr).toMatch(/"community\.general\.modprobe" is an Ansible module \(community\.general\)/);
    const apply = await runCli(['apply', pb, '-i', inv], env());
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stderr + apply.stdout).toMatch(/here: skipped httpd on RedHat/);
  });

  it('fails the host, before anything changes, where its when is true, naming the module', async () => {
    const inv = inventory();
    const pb = playbook('RedHat');
    const apply = await runCli(['apply', pb, '-i', inv], env());
    expect(apply.code).toBe(1);
    expect(apply.stdout + apply.stderr).toContain(
      `task "httpd on RedHat": yum is an Ansible module plumb does not have, and this task runs on this host (its when (os_family == 'RedHat') is true here)`,
    );
    expect(spawnSync('test', ['-e', join(dir, 'marker')]).status).toBe(1);
  });
});

describe('--skip-tags on plan and apply', () => {
  it('leaves out skipped tags and never-tagged tasks, keeps always ones, and a saved plan records it', async () => {
    const inv = join(dir, 'inventory.yml');
    writeFileSync(inv, stringify({ all: { hosts: { here: { connection: 'local' } } } }));
    const pb = join(dir, 'site.yml');
    const touch = (name: string, tags: string[]) => ({ name, command: `touch ${join(dir, name)} creates=${join(dir, name)}`, tags });
    writeFileSync(pb, stringify([{ hosts: 'all', tasks: [touch('web', ['web']), touch('db', ['db']), touch('always', ['always', 'web']), touch('never', ['never'])] }]));
    const env = { PATH: process.env.PATH, PLUMB_STATE_DIR: join(dir, 'state') };
    const saved = join(dir, 'plan.json');
    const plan = await runCli(['plan', pb, '-i', inv, '--skip-tags', 'web', '-o', saved], env);
    expect(plan.code, plan.stderr).toBe(2);
    expect(JSON.parse(readFileSync(saved, 'utf8')).command.skip_tags).toEqual(['web']);
    const apply = await runCli(['apply', saved], env);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const made = ['web', 'db', 'always', 'never'].filter((n) => spawnSync('test', ['-e', join(dir, n)]).status === 0);
    expect(made).toEqual(['db']);
  });
});
