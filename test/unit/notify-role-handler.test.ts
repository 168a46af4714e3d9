/**
 * `notify: "ROLE : handler"` — a task naming a role's handler by its qualified
 * name — run by ansible-playbook and by plumb (both connection: local) on the
 * fixture in test/fixtures/ansible/notify-role: the same handlers run, so the
 * same files are written.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/project.js';
import { runCli } from '../in-process.js';

const dir = resolve('test/fixtures/ansible/notify-role');
const hasAnsible = spawnSync('ansible-playbook', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasAnsible && process.env.CI === 'true') throw new Error('ansible-playbook is missing: scripts/install-deps.sh installs ansible-core, the oracle of this test');

const written = (out: string) =>
  Object.fromEntries(
    readdirSync(out)
      .sort()
      .map((f) => [f, readFileSync(join(out, f), 'utf8')]),
  );

describe('notify names a role handler as "ROLE : name"', () => {
  it('resolves the qualified name to the role handler at load', async () => {
    const project = await loadProject({ playbookPath: join(dir, 'site.yml'), inventoryPath: join(dir, 'inventory.ini') });
    const [play] = project.playbook.plays;
    expect(play.tasks.map((t) => [t.name, t.notify])).toEqual([
      ['write the service file', ['write marker']],
      ['change a file of the play', ['write second marker']],
      ['unchanged the second time', ['never notified']],
    ]);
  });

  it('refuses a qualified name no role handler has, with a did-you-mean', async () => {
    const d = mkdtempSync(join(tmpdir(), 'plumb-notify-role-'));
    writeFileSync(join(d, 'site.yml'), `- hosts: all\n  roles: [svc]\n  tasks:\n    - file: { path: /tmp/x, state: directory }\n      notify: "svc : write markr"\n`);
    const r = await runCli(['validate', join(d, 'site.yml'), '-i', join(dir, 'inventory.ini'), '--roles-path', join(dir, 'roles')], { PATH: process.env.PATH });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${join(d, 'site.yml')}:5:15: error: plays[0].tasks[0].notify: notify names handler "svc : write markr", which does not exist (did you mean "svc : write marker"?)`,
    );
  });

  it.skipIf(!hasAnsible)('runs the same handlers as ansible-playbook', { timeout: 60_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'plumb-notify-role-oracle-'));
    const [ansibleOut, plumbOut] = [join(home, 'ansible'), join(home, 'plumb')];
    mkdirSync(ansibleOut);
    mkdirSync(plumbOut);
    execFileSync('ansible-playbook', ['-i', 'inventory.ini', '-e', 'ansible_python_interpreter=/usr/bin/python3', '-e', `out=${ansibleOut}`, 'site.yml'], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: home, ANSIBLE_NOCOLOR: '1', ANSIBLE_ROLES_PATH: join(home, 'roles'), ANSIBLE_LOCAL_TEMP: join(home, 'tmp') },
      stdio: 'ignore',
    });
    const r = await runCli(['apply', join(dir, 'site.yml'), '-i', join(dir, 'inventory.ini'), '-e', `out=${plumbOut}`], {
      PATH: process.env.PATH,
      PLUMB_STATE_DIR: join(home, 'state'),
    });
    expect(r.code, r.stderr).toBe(0);
    const expected = written(ansibleOut);
    expect(Object.keys(expected)).toEqual(['marker.txt', 'play.txt', 'second.txt', 'service.txt']);
    expect(written(plumbOut)).toEqual(expected);
  });
});
