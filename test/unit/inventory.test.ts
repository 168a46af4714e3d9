import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiagnosticList } from '../../src/source/diagnostics.js';
import { hostScope } from '../../src/config/hostvars.js';
import { loadProject, parseExtraVars } from '../../src/config/project.js';
import { loadInventory, resolveInventory } from '../../src/inventory/load.js';
import { parseYaml } from '../../src/source/yaml.js';
import { applyLimit, matchHosts, PatternError } from '../../src/inventory/patterns.js';
import { TemplateError } from '../../src/template/errors.js';

function inventory(file: string) {
  const diags = new DiagnosticList();
  const inv = loadInventory(file, diags);
  expect(diags.items.filter((d) => d.severity === 'error')).toEqual([]);
  return inv!;
}

describe('host patterns', () => {
  const inv = inventory('test/fixtures/good/inventory.yaml');
  it.each([
    ['all', ['bastion', 'web1', 'web2', 'db1', 'mx1']],
    ['*', ['bastion', 'web1', 'web2', 'db1', 'mx1']],
    ['web', ['web1', 'web2']],
    ['prod', ['web1', 'web2', 'db1']],
    ['db1', ['db1']],
    ['web*', ['web1', 'web2']],
    ['*1', ['web1', 'db1', 'mx1']],
    ['w?b2', ['web2']],
    ['web[12]', ['web1', 'web2']],
    ['mx1:db1', ['db1', 'mx1']],
    ['db1,mx1', ['db1', 'mx1']],
    ['prod:&mailers', ['web1']],
    ['prod:!web', ['db1']],
    ['all:!prod:!bastion', ['mx1']],
    ['!prod', ['bastion', 'mx1']],
    ['prod:mailers:&web:!web2', ['web1']],
    ['nomatch*', []],
  ])('%s → %j', (pattern, hosts) => {
    expect(matchHosts(inv, pattern)).toEqual(hosts);
  });

  it('an unknown name is an error listing close names', () => {
    expect(() => matchHosts(inv, 'mailer')).toThrow(PatternError);
    expect(() => matchHosts(inv, 'mailer')).toThrow(/did you mean "mailers"/);
    expect(() => matchHosts(inv, 'web3')).toThrow(/"web3" is neither a host nor a group.*"web1" or "web2"/);
    expect(() => matchHosts(inv, 'prod:&')).toThrow(/empty term/);
  });

  it('--limit narrows a play to the intersection', () => {
    expect(applyLimit(inv, matchHosts(inv, 'prod'), 'web*:mx1')).toEqual(['web1', 'web2']);
    expect(applyLimit(inv, matchHosts(inv, 'prod'), undefined)).toEqual(['web1', 'web2', 'db1']);
  });
});

describe('inventory variables and groups', () => {
  const inv = inventory('test/fixtures/good/precedence.inventory.yaml');
  it('orders groups all → parent → child and merges vars in that order, host last', () => {
    const h1 = inv.hosts.get('h1')!;
    expect(h1.groups).toEqual(['all', 'parent', 'child']);
    expect(h1.vars).toMatchObject({ level: 'host', from_all: 'a', from_parent: 'p' });
    expect(inv.hosts.get('h2')!.vars.level).toBe('child'); // child (depth 2) beats other (depth 1)
    expect(inv.hosts.get('h2')!.groups).toEqual(['all', 'parent', 'other', 'child']);
    expect(inv.hosts.get('solo')!.vars.level).toBe('all');
  });
  it('derives connection settings from the merged variables', () => {
    expect(inv.hosts.get('h3')!.connection).toEqual({ port: 2200 });
    expect(inv.hosts.get('h1')!.connection).toEqual({ port: 22 });
  });
  it('lists direct and indirect group members in inventory order', () => {
    expect(inv.groups.get('parent')).toEqual(['h1', 'h2']);
    expect(inv.groups.get('other')).toEqual(['h2', 'h3']);
    expect(inv.groups.get('all')).toEqual(['solo', 'h1', 'h2', 'h3']);
  });
});

describe('hostScope precedence: inventory < group < host < play vars < -e', () => {
  const load = (extra: string[] = [], secretsFile?: string) =>
    loadProject({
      playbookPath: 'test/fixtures/good/precedence.yaml',
      inventoryPath: 'test/fixtures/good/precedence.inventory.yaml',
      extraVars: parseExtraVars(extra),
      secretsFile,
    });

  it('play vars see inventory vars; -e beats everything', async () => {
    const project = await load(['level=from-e', 'port=2525']);
    const play = project.playbook.plays[0];
    const scope = hostScope(project, play, project.inventory.hosts.get('h1')!, { PLUMB_TEST_TOKEN: 'tok-123456' });
    expect(scope.render('{{ level }}')).toBe('from-e');
    expect(scope.render('{{ port }}')).toBe(2525);
    expect(scope.render('{{ play_level }} {{ from_parent }} {{ inventory_hostname }}')).toBe('play p h1');
    expect(scope.render('{{ group_names | join(",") }}')).toBe('parent,child');
  });

  it('host vars beat group vars; play vars beat host vars', async () => {
    const project = await load();
    const play = project.playbook.plays[0];
    const env = { PLUMB_TEST_TOKEN: 'tok-123456' };
    expect(hostScope(project, play, project.inventory.hosts.get('h1')!, env).render('{{ level_from_play }}')).toBe('host-seen-by-play');
    expect(hostScope(project, play, project.inventory.hosts.get('h3')!, env).render('{{ port_text }}')).toBe('port 2200');
    const overridden = await loadProject({
      playbookPath: 'test/fixtures/good/precedence.yaml',
      inventoryPath: 'test/fixtures/good/precedence.inventory.yaml',
    });
    overridden.playbook.plays[0].vars.level = 'play';
    expect(hostScope(overridden, overridden.playbook.plays[0], overridden.inventory.hosts.get('h1')!, env).render('{{ level }}')).toBe('play');
  });

  it('renders secrets, tracks them in the redactor, and names an unset variable', async () => {
    const project = await load();
    const play = project.playbook.plays[0];
    const scope = hostScope(project, play, project.inventory.hosts.get('h1')!, { PLUMB_TEST_TOKEN: 'tok-123456' });
    expect(scope.render('{{ token }}')).toBe('tok-123456');
    expect(scope.redactor.redact('token=tok-123456.')).toBe('token=***.');
    expect(() => hostScope(project, play, project.inventory.hosts.get('h1')!, {})).toThrow(TemplateError);
    expect(() => hostScope(project, play, project.inventory.hosts.get('h1')!, {})).toThrow(/secret "token": environment variable PLUMB_TEST_TOKEN is not set/);
  });

  it('-e parses scalars like YAML but keeps octal-looking strings', () => {
    expect(parseExtraVars(['a=587', 'b=yes', 'c=true', 'd=0600', 'e=x=y', 'f=', 'g=[1]'])).toEqual({ a: 587, b: 'yes', c: true, d: '0600', e: 'x=y', f: '', g: '[1]' });
    expect(parseExtraVars(['{"k": [1, 2]}'])).toEqual({ k: [1, 2] });
    expect(() => parseExtraVars(['novalue'])).toThrow(/expected NAME=VALUE/);
    expect(() => parseExtraVars(['__proto__=1'])).toThrow(/invalid variable name/);
  });

  it('records every file read with its sha256', async () => {
    const project = await load();
    expect(project.files.map((f) => f.path)).toEqual(['test/fixtures/good/precedence.inventory.yaml', 'test/fixtures/good/precedence.yaml']);
    for (const f of project.files) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('the seed playbook takes its relay settings from the inventory or -e', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plumb-seed-'));
  const inventoryFile = join(dir, 'inventory.yaml');
  writeFileSync(
    inventoryFile,
    'all:\n  children:\n    mailers:\n      vars: { relay_host: 10.233.0.1, relay_port: 2525, relay_tls_ca_path: /etc/plumb-test-ca }\n      hosts:\n        mx1: { relay_account: ops@example.com }\n        mx2:\n',
  );
  const env = { GMAIL_APP_PASSWORD: 'abcd efgh ijkl mnop' };
  const copyArgs = async (extra: string[], host: string) => {
    const project = await loadProject({ playbookPath: 'playbooks/postfix-gmail-relay.yaml', inventoryPath: inventoryFile, extraVars: parseExtraVars(extra) });
    const play = project.playbook.plays[0];
    const scope = hostScope(project, play, project.inventory.hosts.get(host)!, env);
    return {
      content: (scope.render(play.tasks.find((t) => t.module === 'copy')!.args) as { content: string }).content,
      postconf: scope.render(play.tasks.find((t) => t.module === 'postconf')!.args) as Record<string, string>,
      redact: (s: string) => scope.redactor.redact(s),
    };
  };

  it('inventory vars override the defaults', async () => {
    const mx1 = await copyArgs([], 'mx1');
    expect(mx1.content).toBe('[10.233.0.1]:2525 ops@example.com:abcd efgh ijkl mnop\n');
    expect(mx1.postconf.relayhost).toBe('[10.233.0.1]:2525');
    expect(mx1.postconf.smtp_tls_CApath).toBe('/etc/plumb-test-ca');
    expect(mx1.redact(mx1.content)).toBe('[10.233.0.1]:2525 ops@example.com:***\n');
    expect((await copyArgs([], 'mx2')).content).toBe('[10.233.0.1]:2525 you@gmail.com:abcd efgh ijkl mnop\n');
  });

  it('-e overrides the inventory', async () => {
    const r = await copyArgs(['relay_port=587', 'relay_host=smtp.gmail.com', 'relay_account=me@gmail.com'], 'mx1');
    expect(r.content).toBe('[smtp.gmail.com]:587 me@gmail.com:abcd efgh ijkl mnop\n');
  });
});

describe('resolveInventory (no file read)', () => {
  const resolve = (text: string) => {
    const diags = new DiagnosticList();
    const src = parseYaml('mem.yaml', text, diags, 'inventory')!;
    return { inv: resolveInventory(src, diags), diags: diags.items };
  };

  it('merges variables all < parent < child < host and lists members in inventory order', () => {
    const { inv, diags } = resolve(
      [
        'all:',
        '  vars: {v: all, w: all}',
        '  children:',
        '    prod:',
        '      vars: {v: prod}',
        '      children:',
        '        web:',
        '          vars: {v: web}',
        '          hosts: {w2: , w1: {w: host}}',
        '    db:',
        '      hosts: {d1: }',
      ].join('\n'),
    );
    expect(diags).toEqual([]);
    expect(inv!.groups.get('prod')).toEqual(['w2', 'w1']);
    expect(inv!.hosts.get('w1')).toMatchObject({ groups: ['all', 'prod', 'web'], vars: { v: 'web', w: 'host' } });
    expect(inv!.hosts.get('d1')!.vars).toEqual({ v: 'all', w: 'all' });
  });

  it('a group cycle is a positioned error and no inventory', () => {
    const { inv, diags } = resolve(['a:', '  children:', '    b:', '      children:', '        a:'].join('\n'));
    expect(inv).toBeUndefined();
    expect(diags.map((d) => d.message)).toContainEqual(expect.stringMatching(/^group cycle: a → b → a|^group cycle: b → a → b/));
  });
});
