/**
 * Ansible INI inventories, directories and group_vars/host_vars: parse errors
 * at file:line:col with a fix, values typed as Python's ast.literal_eval
 * types them (checked against python3 itself), host lines split as shlex
 * splits them, Ansible's connection variables mapped, passwords never shown.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiagnosticList, headline } from '../../src/source/diagnostics.js';
import { loadInventory } from '../../src/inventory/load.js';
import { pythonLiteral } from '../../src/inventory/python-literal.js';
import { expandHostPattern, shellWords } from '../../src/inventory/ini.js';
import { hostScope } from '../../src/config/hostvars.js';
import { loadProject } from '../../src/config/project.js';
import { runCli } from '../in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'plumb-ini-'));
let n = 0;
function file(text: string, name = `inv${++n}`): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
function load(path: string) {
  const diags = new DiagnosticList();
  const inv = loadInventory(path, diags);
  return { inv, diags, lines: diags.sorted().map(headline) };
}

describe('INI parse errors point at file:line:col and say how to fix it', () => {
  it.each([
    ['[web servers]\nh1\n', 1, 1, /invalid section header \[web servers\]: a group name has no spaces/],
    ['[web:child]\nh1\n', 1, 6, /unknown section type ":child" \(did you mean ":children"\?\)/],
    ['[web]\nh1 port 22\n', 2, 4, /expected key=value after the host name, found "port"/],
    ['[web]\n  h1 note="unclosed\n', 2, 11, /no closing quotation \(values with spaces are quoted: key="a b"\)/],
    ['[all:children]\nweb\n[db]\n', 2, 1, /names group "web", which is declared nowhere: add a \[web\] section/],
    ['[dbs:vars]\nport=1\n[db]\n', 1, 2, /\[dbs:vars\] sets variables of a group that is declared nowhere.*\(did you mean "db"\?\)/],
    ['[db]\n[db:vars]\njust_a_word\n', 3, 1, /expected name=value in \[db:vars\], found "just_a_word"/],
    ['[db]\nh1 my-var=1\n', 2, 4, /invalid variable name "my-var"/],
    ['web[01:5]\n', 1, 1, /zero-padded range needs begin and end of the same width/],
    ['web[1:]\n', 1, 1, /a range needs an end value/],
    ['web[a:5]\n', 1, 1, /\[a:5\] is not a range: use numbers/],
    ['web[1:4:0]\n', 1, 1, /the range step "0" must be a whole number above 0/],
    ['web[1:3\n', 1, 1, /a range "\[" is not closed/],
    ['node[0:99999]\n', 1, 1, /the range makes 100000 hosts; plumb expands at most 10000/],
    ['[web]\nhost1:\n', 2, 1, /a trailing ":" needs a port number/],
    ['[web]\nh1 ansible_port=ssh\n', 2, 17, /ansible_port \(plumb's "port"\): expected a number, found the string "ssh"/],
    ['[web]\nh1 ansible_connection=docker\n', 2, 23, /plumb connects over ssh or local only, found "docker"/],
    ['[web]\nh1:70000\n', 2, 1, /port 70000 is out of range/],
  ])('%j → line %i col %i', (text, line, column, message) => {
    const p = file(text);
    const { inv, diags } = load(p);
    expect(inv).toBeUndefined();
    const e = diags.items.find((d) => d.severity === 'error')!;
    expect(e.message).toMatch(message);
    expect([e.file, e.line, e.column]).toEqual([p, line, column]);
  });

  it('an INI file is no longer "invalid YAML: Unexpected scalar"', () => {
    const { inv, lines } = load(file('[mail]\nmx1 relay_port=587\nmx2\n'));
    expect(lines).toEqual([]);
    expect(inv!.groups.get('mail')).toEqual(['mx1', 'mx2']);
    expect(inv!.hosts.get('mx1')!.vars).toEqual({ relay_port: 587 });
  });

  it('a broken .yaml inventory keeps its YAML error', () => {
    const { lines } = load(file('all:\n  hosts:\n    a: [1,\n', 'broken.yaml'));
    expect(lines.join('\n')).toMatch(/broken\.yaml:\d+:\d+: error: invalid YAML/);
  });

  it('a [group:vars] value with a trailing comment keeps it (as Ansible does) and says so', () => {
    // A number stays a number: Python itself reads `# main` as a comment there.
    const { inv, lines } = load(file('[db]\nd1\n[db:vars]\nport=5432 # main\nrole=primary db # main\n'));
    expect(inv!.hosts.get('d1')!.vars).toEqual({ port: 5432, role: 'primary db # main' });
    expect(lines.join('\n')).toMatch(/:5:17: warning: the value of role includes "# main"/);
  });
});

const python = spawnSync('python3', ['-c', 'pass']).status === 0 ? 'python3' : undefined;
const inCI = process.env.CI === 'true';

describe.skipIf(!python && !inCI)('values typed as Python types them (python3 is the oracle)', () => {
  const literals = [
    '1',
    '-1',
    '+7',
    '0',
    '00',
    '0644',
    '0x1F',
    '0o17',
    '0b101',
    '1_000',
    '1.5',
    '.5',
    '1.',
    '1e3',
    '2E-2',
    '1j',
    '12abc',
    'True',
    'False',
    'None',
    'true',
    'yes',
    'FALSE',
    'none',
    '"x"',
    "'x y'",
    '"a" \'b\'',
    'r"\\n"',
    '"\\n\\t\\x41\\u00e9"',
    '"\\q"',
    'b"bytes"',
    'f"x"',
    '"unterminated',
    '[1, 2]',
    '[1, [2, "3"]]',
    '[]',
    '[1,]',
    '(1, 2)',
    '(1,)',
    '()',
    '(1)',
    '1, 2',
    '{}',
    "{'a': 1, 'b': [True, None]}",
    '{1: 2}',
    '{1, 2}',
    '{"a": 1 "b": 2}',
    '--1',
    '-True',
    '1 + 2',
    'x',
    'a=b',
    '1 # comment',
    '  42',
    '[1, 2',
    'set()',
    '{[1]: 2}',
  ];
  it.each(literals)('%s', (text) => {
    const script =
      'import ast,json,sys\ntry:\n  v=ast.literal_eval(sys.argv[1])\n  if isinstance(v,bytes): v=v.decode()\n  if isinstance(v,(set,tuple)): v=list(v)\n  if isinstance(v,complex): raise ValueError()\n  print(json.dumps(v))\nexcept Exception:\n  print("NOT")';
    const r = spawnSync(python ?? 'python3', ['-c', script, text], { encoding: 'utf8' });
    const expected = r.stdout.trim() === 'NOT' ? undefined : JSON.parse(r.stdout);
    expect(pythonLiteral(text)).toEqual(expected);
  });

  it.each(['a=b#c d', 'h x="a b"#c', "h x='it''s'", 'h x=a\\ b', 'h x="a\\"b"', 'h x="a\\nb"', 'h #c x=1', 'h k=\'a "b" c\' z="1"'])(
    'host line %j splits as shlex does',
    (line) => {
      const r = spawnSync(python ?? 'python3', ['-c', 'import json,shlex,sys; print(json.dumps(shlex.split(sys.argv[1], comments=True)))', line], { encoding: 'utf8' });
      const split = shellWords(line);
      expect('words' in split && split.words.map((w) => w.text)).toEqual(JSON.parse(r.stdout));
    },
  );
});

describe('host patterns', () => {
  it.each([
    ['web[01:03].lan', ['web01.lan', 'web02.lan', 'web03.lan'], undefined],
    ['db-[a:c]', ['db-a', 'db-b', 'db-c'], undefined],
    ['n[1:10:4]', ['n1', 'n5', 'n9'], undefined],
    ['h[0:1]-[x:y]', ['h0-x', 'h0-y', 'h1-x', 'h1-y'], undefined],
    ['s[:1]', ['s0', 's1'], undefined],
    ['mail:2222', ['mail'], 2222],
    ['[fe80::1]:2200', ['fe80::1'], 2200],
    ['fe80::1', ['fe80::1'], undefined],
  ])('%s', (pattern, hosts, port) => {
    expect(expandHostPattern(pattern)).toEqual({ hosts, port });
  });
});

describe("Ansible's connection variables", () => {
  const inv = load(resolve('test/fixtures/ansible/inventory/11-connection-vars/hosts')).inv!;
  it('map to plumb connection settings', () => {
    expect(inv.hosts.get('mail1')!.connection).toEqual({ host: '10.0.0.5', port: 2222, user: 'root' });
    expect(inv.hosts.get('mail2')!.connection).toEqual({ host: '10.0.0.6', user: 'deploy', identity_file: '~/.ssh/deploy_ed25519' });
    expect(inv.hosts.get('mail3')!.connection).toEqual({ user: 'root', jump: 'bastion.example.org', connection: 'ssh' });
  });

  it('the spelling set at the higher precedence wins, whichever it is', () => {
    const p = file('[web]\nw1 ansible_port=2200\nw2\n[web:vars]\nport=2022\n[all:vars]\nansible_port="2300"\n');
    const { inv: i, lines } = load(p);
    expect(lines).toEqual([]);
    expect(i!.hosts.get('w1')!.connection.port).toBe(2200);
    expect(i!.hosts.get('w2')!.connection.port).toBe(2022);
  });

  it('what plumb cannot follow is a warning at the variable, never silence', () => {
    const p = file(
      ['[web]', "w1 ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/tmp/kh -C'", '[web:vars]', 'ansible_become=true', 'ansible_timeout=30'].join('\n'),
    );
    const out = load(p).lines.join('\n');
    expect(out).toMatch(/:2:28: warning: ansible_ssh_common_args: plumb always checks host keys/);
    expect(out).toMatch(/:2:28: warning: ansible_ssh_common_args: plumb does not read UserKnownHostsFile from here; pass --known-hosts \/tmp\/kh/);
    expect(out).toMatch(/ignored: -C/);
    expect(out).toMatch(/:4:1: warning: ansible_become: plumb takes become from the play/);
    expect(out).toMatch(/:5:1: warning: ansible_timeout: .*--connect-timeout/);
  });

  it('a password in the inventory is never shown: not in excerpts, not in plumb inventory', async () => {
    const secret = 'Hunter2-Very-Secret';
    const p = file(`[web]\nw1 ansible_password=${secret} ansible_port=oops\nw2 ansible_become_password="${secret}"\n`);
    const bad = await runCli(['inventory', '-i', p], { HOME: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/ansible_port/);
    expect(bad.stderr + bad.stdout).not.toContain(secret);
    const good = file(`[web]\nw1 ansible_password=${secret}\n`);
    for (const args of [[], ['--list'], ['--format', 'json']]) {
      const r = await runCli(['inventory', '-i', good, ...args], { HOME: dir });
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(secret);
      expect(r.stdout).toContain('***');
      expect(r.stderr).toMatch(/ansible_password: plumb logs in with SSH keys only/);
    }
  });
});

describe('directories and group_vars/host_vars', () => {
  it('says which files are not read, and why', () => {
    const base = mkdtempSync(join(dir, 'gv-'));
    mkdirSync(join(base, 'group_vars', 'web'), { recursive: true });
    writeFileSync(join(base, 'hosts'), '[web]\nw1\n');
    writeFileSync(join(base, 'group_vars', 'web', 'a.yml'), 'a: 1\n');
    writeFileSync(join(base, 'group_vars', 'web.yml'), 'a: 2\n');
    writeFileSync(join(base, 'group_vars', 'wbe.yml'), 'a: 3\n');
    const { inv, lines } = load(join(base, 'hosts'));
    expect(inv!.hosts.get('w1')!.vars).toEqual({ a: 1 });
    const out = lines.join('\n');
    expect(out).toMatch(/group_vars\/web\.yml:1:1: warning: not read: .*group_vars\/web exists and Ansible reads only the first/);
    expect(out).toMatch(/group_vars\/wbe\.yml:1:1: warning: not read: no group is named "wbe" \(did you mean "web"\?\)/);
  });

  it('a group_vars file with a bad value points into that file', () => {
    const base = mkdtempSync(join(dir, 'gv-'));
    mkdirSync(join(base, 'host_vars'));
    writeFileSync(join(base, 'hosts'), 'h1\n');
    writeFileSync(join(base, 'host_vars', 'h1.yml'), 'ok: 1\nansible_port: [22]\n');
    const { inv, lines } = load(join(base, 'hosts'));
    expect(inv).toBeUndefined();
    expect(lines.join('\n')).toMatch(/host_vars\/h1\.yml:2:15: error: ansible_port: ansible_port \(plumb's "port"\): expected a number, found a list/);
  });

  it('a directory without any inventory file is an error naming what Ansible skips', () => {
    const base = mkdtempSync(join(dir, 'empty-'));
    writeFileSync(join(base, 'hosts.ini'), '[web]\nw1\n');
    const { inv, lines } = load(base);
    expect(inv).toBeUndefined();
    expect(lines.join('\n')).toMatch(/hosts\.ini:1:1: warning: skipped: Ansible ignores \.ini files inside an inventory directory/);
    expect(lines.join('\n')).toMatch(/error: no inventory file in this directory/);
  });

  it('a playbook sees group_vars/ and host_vars/ beside itself and beside the inventory', async () => {
    const root = resolve('test/fixtures/ansible/inventory/08-playbook-dir');
    const project = await loadProject({ playbookPath: join(root, 'playbooks/site.yml'), inventoryPath: join(root, 'inventory') });
    const scope = hostScope(project, project.playbook.plays[0], project.inventory.hosts.get('w1')!, {});
    expect(scope.render('{{ shared }} {{ web_from }} {{ hv }} {{ inv_only }} {{ pb_only }}')).toBe('inventory_web playbook playbook 1 1');
  });
});

describe('ansible.cfg', () => {
  const cfgRoot = resolve('test/fixtures/ansible/inventory/13-ansible-cfg');
  const env = { ANSIBLE_CONFIG: join(cfgRoot, 'ansible.cfg'), HOME: dir };

  it('gives the inventory when -i is missing, and remote_user / private_key_file below the inventory', async () => {
    const r = await runCli(['inventory', '--format', 'json'], env);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.hosts.app1.connection).toEqual({ user: 'deploy', identity_file: join(cfgRoot, 'keys/deploy_ed25519') });
    expect(out.hosts.app2.connection.user).toBe('admin');
    expect(r.stderr).toMatch(/ansible\.cfg:6:1: warning: host_key_checking is off here, but plumb always checks host keys/);
  });

  it('-i wins over ansible.cfg; without either plumb says where it looked', async () => {
    const r = await runCli(['inventory', '-i', resolve('test/fixtures/ansible/inventory/02-ini-ranges/hosts'), '--list'], env);
    expect(JSON.parse(r.stdout).db.hosts).toEqual(['db-a.example.com', 'db-b.example.com', 'db-c.example.com']);
    const none = await runCli(['inventory'], { HOME: dir });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/missing -i INVENTORY \(and no \[defaults\] inventory in an ansible\.cfg\)/);
  });

  it('exposes roles_path, resolved from the file directory; ANSIBLE_CONFIG may name a directory', async () => {
    const { loadAnsibleCfg } = await import('../../src/config/ansible-cfg.js');
    const loaded = loadAnsibleCfg({ env: { ANSIBLE_CONFIG: cfgRoot, HOME: dir }, cwd: dir, systemFile: join(dir, 'none.cfg') });
    expect(loaded.cfg!.rolesPath).toEqual([join(cfgRoot, 'roles'), join(cfgRoot, 'shared/roles')]);
    expect(loaded.cfg!.inventory).toEqual([join(cfgRoot, 'inventories/prod/hosts')]);
  });

  it('./ansible.cfg in a world-writable directory is skipped, as Ansible skips it', async () => {
    const { findAnsibleCfg } = await import('../../src/config/ansible-cfg.js');
    const open = mkdtempSync(join(dir, 'ww-'));
    writeFileSync(join(open, 'ansible.cfg'), '[defaults]\nremote_user = x\n');
    chmodSync(open, 0o777);
    const found = findAnsibleCfg({ env: { HOME: dir }, cwd: open, systemFile: join(dir, 'none.cfg') });
    expect(found.file).toBeUndefined();
    expect(found.note).toMatch(/is not read: the current directory is world-writable/);
    chmodSync(open, 0o755);
    expect(findAnsibleCfg({ env: { HOME: dir }, cwd: open, systemFile: join(dir, 'none.cfg') }).file).toBe(join(open, 'ansible.cfg'));
  });

  it.each([
    ['remote_user = x\n', 1, 1, /a setting before any \[section\]/],
    ['[defaults]\nremote_user = a\nremote_user = b\n', 3, 1, /"remote_user" is set twice/],
    ['[defaults]\njust words\n', 2, 1, /expected "key = value"/],
    ['[defaults]\n[defaults]\n', 2, 2, /section \[defaults\] appears twice/],
  ])('a broken ansible.cfg %j is an error at its line', async (text, line, column, message) => {
    const cfg = file(text, `c${++n}.cfg`);
    const r = await runCli(['inventory', '-i', resolve('test/fixtures/ansible/inventory/02-ini-ranges/hosts')], { ANSIBLE_CONFIG: cfg, HOME: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${cfg}:${line}:${column}: error:`);
    expect(r.stderr).toMatch(message);
  });
});
