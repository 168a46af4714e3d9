/**
 * include_vars: the corpus in test/fixtures/ansible/include_vars (a file, a
 * key=value line, `name:`, `dir:` with depth/files_matching/ignore_files/
 * extensions, a role's vars/, a per-host `when`, one decided by an earlier
 * include_vars, include and role parameters above it) resolved per host at
 * every checkpoint task, against what ansible-playbook writes at the same
 * checkpoints in one run; then the errors, --tags, and vault-encrypted files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { vaultContext } from '../../src/cli/vault.js';
import { hostScope, taskScope } from '../../src/config/hostvars.js';
import type { Task } from '../../src/config/model.js';
import { loadProject, type Project } from '../../src/config/project.js';
import { playHosts } from '../../src/engine/run.js';
import { selectedByTags } from '../../src/engine/prepare.js';
import { encryptFiles, runVaultOracle, vaultDir } from '../vault-oracle.js';

const dir = 'test/fixtures/ansible/include_vars';

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (t) => (stdout += t + '\n'), stderr: (t) => (stderr += t + '\n'), env: { PATH: process.env.PATH } });
  return { code, stdout, stderr };
}

const checkpoints = (tasks: Task[]) => tasks.filter((t) => t.name.startsWith('checkpoint '));

/** What plumb resolves at each checkpoint task, per host: `HOST-NAME` → the probe's value. */
function plumbCheckpoints(project: Project, selected?: (tags: string[]) => boolean): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const play of project.playbook.plays) {
    for (const host of playHosts(project, play, undefined)) {
      const scope = hostScope(project, play, project.inventory.hosts.get(host)!, {}, { selected });
      for (const task of checkpoints(play.tasks)) {
        const content = taskScope(scope, task).render((task.args as { content: string }).content);
        out.set(`${host}-${task.name.slice('checkpoint '.length)}`, JSON.parse(String(content)));
      }
    }
  }
  return out;
}

const hasAnsible = spawnSync('ansible-playbook', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasAnsible && process.env.CI === 'true') throw new Error('ansible-playbook is missing: scripts/install-deps.sh installs ansible-core, the oracle of this test');

describe.skipIf(!hasAnsible)('include_vars: plumb resolves what ansible-playbook resolves', { timeout: 120_000 }, () => {
  it('agrees on every host at every checkpoint', async () => {
    const home = mkdtempSync(join(tmpdir(), 'plumb-include-vars-'));
    const out = join(home, 'out');
    mkdirSync(out);
    execFileSync('ansible-playbook', ['-c', 'local', '-i', 'inventory.ini', '-e', `out=${out}`, '-e', 'ansible_python_interpreter=/usr/bin/python3', 'site.yml'], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: home, ANSIBLE_NOCOLOR: '1', ANSIBLE_ROLES_PATH: join(home, 'roles'), ANSIBLE_LOCAL_TEMP: join(home, 'tmp') },
    });
    const project = await loadProject({ playbookPath: `${dir}/site.yml`, inventoryPath: `${dir}/inventory.ini` });
    const plumb = plumbCheckpoints(project);
    expect(plumb.size).toBe(3 * 6);
    let agree = 0;
    for (const [key, value] of plumb) {
      const ansible = JSON.parse(readFileSync(join(out, `${key}.json`), 'utf8'));
      expect(value, key).toEqual(ansible);
      agree++;
    }
    console.log(`include_vars: plumb and ansible-playbook resolve the same variables at ${agree} of ${plumb.size} (host, checkpoint) pairs`);
  });
});

describe('include_vars', () => {
  it('validates the corpus, and is not a task of its own', async () => {
    const { code, stderr } = await cli(['validate', `${dir}/site.yml`, '-i', `${dir}/inventory.ini`]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const project = await loadProject({ playbookPath: `${dir}/site.yml`, inventoryPath: `${dir}/inventory.ini` });
    expect(project.playbook.plays[0].tasks.map((t) => t.name)).toEqual([
      'checkpoint role-start',
      'checkpoint role-end',
      'checkpoint after-role',
      'checkpoint middle',
      'checkpoint in-include',
      'checkpoint end',
    ]);
    // Every file read is recorded (a saved plan is stale when one changes).
    expect(project.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([join(dir, 'vars/common.yml'), join(dir, 'dirvars/sub/deeper/e.yml'), join(dir, 'roles/r1/vars/more/m2.yml')]),
    );
  });

  it('loads an include_vars only where --tags selects it', async () => {
    const project = await loadProject({ playbookPath: `${dir}/site.yml`, inventoryPath: `${dir}/inventory.ini` });
    const all = plumbCheckpoints(project);
    expect(all.get('h1-end')).toMatchObject({ tagged_var: 'loaded', common_only: 'from-common' });
    const only = plumbCheckpoints(project, (tags) => selectedByTags({ tags }, { tags: ['special'] }));
    // Under --tags special, Ansible skips every untagged include_vars too.
    expect(only.get('h1-end')).toMatchObject({ tagged_var: 'loaded', common_only: 'UNDEF', web_only: 'UNDEF' });
    const skipped = plumbCheckpoints(project, (tags) => selectedByTags({ tags }, { skipTags: ['special'] }));
    expect(skipped.get('h1-end')).toMatchObject({ tagged_var: 'UNDEF', common_only: 'from-common' });
  });

  it('reports each bad include_vars at its position', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'plumb-include-vars-bad-'));
    cpSync(dir, bad, { recursive: true });
    writeFileSync(join(bad, 'vars', 'broken.yml'), 'ok: 1\nbad: [unclosed\n');
    writeFileSync(join(bad, 'vars', 'list.yml'), '- a\n- b\n');
    writeFileSync(
      join(bad, 'bad.yml'),
      [
        '- hosts: all',
        '  tasks:',
        '    - include_vars: "{{ which }}.yml"',
        '    - include_vars: missing.yml',
        '    - include_vars: { file: common.yml, dir: dirvars }',
        '    - include_vars: { file: common.yml, hash_behaviour: merge }',
        '    - include_vars: { dir: dirvars }',
        '    - include_vars: broken.yml',
        '    - include_vars: list.yml',
        '    - include_vars: { file: common.yml, name: 1bad }',
        '    - include_vars: common.yml',
        '      when: "{{ broken"',
        '    - include_vars: common.yml',
        '      file: { path: /tmp/x, state: directory }',
        '  handlers:',
        '    - name: h',
        '      include_vars: common.yml',
        '',
      ].join('\n'),
    );
    const { code, stderr } = await cli(['validate', join(bad, 'bad.yml'), '-i', join(bad, 'inventory.ini')]);
    expect(code).toBe(1);
    const lines = stderr.split('\n').filter((l) => /^\S+:\d+:\d+: error: /.test(l));
    const texts = lines.map((l) => l.replace(/^\S+?:(\d+):(\d+): error: /, '$1:$2 '));
    expect(texts[0]).toBe(
      '3:21 plays[0].tasks[0].include_vars: include_vars with a templated file is not supported yet: plumb reads every vars file before it contacts a host; write the file literally',
    );
    expect(texts[1]).toMatch(/^4:21 plays\[0\]\.tasks\[1\]\.include_vars: include_vars: cannot find "missing\.yml" \(looked in \S+\/vars\/missing\.yml, /);
    expect(texts).toContain('5:21 plays[0].tasks[2].include_vars: include_vars takes either "file" or "dir" (with depth, files_matching, ignore_files, extensions), not both');
    expect(texts).toContain(
      '6:41 plays[0].tasks[3].include_vars.hash_behaviour: include_vars: "hash_behaviour" is not supported: plumb replaces variables, as Ansible does by default',
    );
    expect(texts).toContain(
      `7:28 plays[0].tasks[4].include_vars.dir: include_vars: ${join(bad, 'dirvars/notes.txt')} does not have a valid extension: yaml, yml, json (ignore_unknown_extensions: true skips such files)`,
    );
    expect(texts).toContain('10:47 plays[0].tasks[7].include_vars.name: include_vars: invalid variable name "1bad": use letters, digits and _, not starting with a digit');
    expect(texts.some((t) => t.startsWith('12:13 plays[0].tasks[8].when: invalid condition'))).toBe(true);
    expect(texts).toContain('14:7 plays[0].tasks[9].file: unknown key "file" in include_vars; expected one of: name, tags, when');
    expect(texts).toContain('17:7 plays[0].handlers[0].include_vars: "include_vars" in handlers is not supported: plumb\'s handlers are single tasks');
    // Problems inside a vars file are positioned in that file.
    expect(lines.some((l) => l.startsWith(`${join(bad, 'vars/broken.yml')}:3:1: error: invalid YAML`))).toBe(true);
    expect(lines).toContain(`${join(bad, 'vars/list.yml')}:1:1: error: expected a mapping of variables, found a list`);
  });

  it('fails a later task on a host where the when of an include_vars cannot be decided', async () => {
    const d = mkdtempSync(join(tmpdir(), 'plumb-include-vars-when-'));
    cpSync(dir, d, { recursive: true });
    writeFileSync(
      join(d, 'when.yml'),
      ['- hosts: all', '  tasks:', '    - include_vars: common.yml', '      when: nowhere_defined == 1', '    - file: { path: "/tmp/{{ level }}", state: directory }', ''].join(
        '\n',
      ),
    );
    const { code, stderr } = await cli(['validate', join(d, 'when.yml'), '-i', join(d, 'inventory.ini')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`${join(d, 'when.yml')}:4:13: error: the when of include_vars: .*nowhere_defined`));
  });
});

describe.skipIf(!runVaultOracle)('include_vars of a vault-encrypted file', { timeout: 60_000 }, () => {
  it('decrypts it with the vault password, and its values are secrets', async () => {
    const password = { label: 'default', password: 'include-vars-pass', fileText: 'include-vars-pass\n' };
    const d = vaultDir([password]);
    mkdirSync(join(d, 'vars'));
    writeFileSync(join(d, 'inventory.ini'), 'h1\n');
    const secret = 'vaulted-include-value-4711';
    writeFileSync(join(d, 'vars', 'secret.yml'), `db_password: ${secret}\n`);
    encryptFiles(d, password, [join(d, 'vars', 'secret.yml')]);
    writeFileSync(
      join(d, 'site.yml'),
      [
        '- hosts: all',
        '  tasks:',
        '    - include_vars: secret.yml',
        '    - name: write it',
        '      copy: { content: "{{ db_password }}", dest: /tmp/plumb-never-written }',
        '',
      ].join('\n'),
    );
    const vault = await vaultContext({ vaultIds: [], vaultPasswordFiles: [join(d, 'default.pass')], askVaultPass: false }, {
      stdout: () => undefined,
      stderr: () => undefined,
      env: {},
    } as never);
    const project = await loadProject({ playbookPath: join(d, 'site.yml'), inventoryPath: join(d, 'inventory.ini'), vault });
    const play = project.playbook.plays[0];
    const scope = taskScope(hostScope(project, play, project.inventory.hosts.get('h1')!, {}), play.tasks[0]);
    expect(scope.render('{{ db_password }}')).toBe(secret);
    expect(scope.secretNames.has('db_password')).toBe(true);
    expect(scope.redactor.redact(`x ${secret} y`)).not.toContain(secret);
    // Without the password it is refused at load, positioned in the file.
    const { code, stderr, stdout } = await cli(['validate', join(d, 'site.yml'), '-i', join(d, 'inventory.ini')]);
    expect(code).toBe(1);
    expect(stderr + stdout).not.toContain(secret);
    expect(stderr).toContain(join(d, 'vars', 'secret.yml'));
  });
});
