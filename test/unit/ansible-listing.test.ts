/**
 * Differential test against real Ansible: `ansible-playbook --list-hosts
 * --list-tasks --list-tags` and plumb's listing on every playbook of the role
 * corpus. Hosts are compared as sets (Ansible prints a Python set), tasks in
 * order with their tags. Where plumb deliberately differs (it expands
 * include_tasks/include_role statically and lists a role that runs once per
 * play once, where Ansible's listing repeats it) the exact difference is
 * recorded, so it cannot grow unnoticed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';

const dir = 'test/fixtures/ansible/roles';
const playbooks = ['site.yml', 'dedupe.yml', 'includes.yml', 'precedence.yml', 'start.yml', 'role-tags.yml', 'prepost.yml', 'imports.yml'];

/** What each side lists that the other does not, for the playbooks where plumb differs on purpose. */
const deliberate: Record<string, { ansibleOnly: string[]; plumbOnly: string[] }> = {
  // include_tasks/include_role are listed as themselves by Ansible (dynamic); plumb lists what they load.
  // app's dependency common, and the imported app's, already ran in the play: Ansible's listing repeats them.
  'site.yml': {
    ansibleOnly: [
      'include_tasks\tTAGS: []',
      'common : create the common directory\tTAGS: [app]',
      'common : write the message of the day\tTAGS: [app, motd]',
      'common : copy the banner\tTAGS: [app, motd]',
      'common : create the common directory\tTAGS: []',
      'common : write the message of the day\tTAGS: [motd]',
      'common : copy the banner\tTAGS: [motd]',
      'include_role\tTAGS: []',
    ],
    plumbOnly: ['web : write the extra file\tTAGS: []', 'base_dirs : create the base directory\tTAGS: []'],
  },
  'dedupe.yml': {
    ansibleOnly: [
      'common : create the common directory\tTAGS: []',
      'common : write the message of the day\tTAGS: [motd]',
      'common : copy the banner\tTAGS: [motd]',
      'common : create the common directory\tTAGS: []',
      'common : write the message of the day\tTAGS: [motd]',
      'common : copy the banner\tTAGS: [motd]',
    ],
    plumbOnly: [],
  },
  'includes.yml': { ansibleOnly: ['include_tasks\tTAGS: [b]'], plumbOnly: ['nested task\tTAGS: [b, nested]'] },
  // precedence.yml: app's dependency common is listed by both (it runs there first).
};

interface Listed {
  header: string;
  hosts: string[];
  tasks: string[];
  tags: string;
}

/** ansible-playbook's listing (and plumb's, which follows it), per playbook file name. */
function parse(text: string): Map<string, Listed[]> {
  const books = new Map<string, Listed[]>();
  let plays: Listed[] = [];
  let section: 'hosts' | 'tasks' | undefined;
  for (const line of text.split('\n')) {
    const book = /^playbook: (.*)$/.exec(line);
    if (book) books.set(basename(book[1]), (plays = []));
    else if (line.startsWith('  play #')) {
      plays.push({ header: line.trim(), hosts: [], tasks: [], tags: '' });
      section = undefined;
    } else if (line.startsWith('    hosts (')) section = 'hosts';
    else if (line === '    tasks:') section = 'tasks';
    else if (line.startsWith('      TASK TAGS: ')) plays.at(-1)!.tags = line.trim();
    else if (line.startsWith('      ') && section) plays.at(-1)![section].push(line.trim());
  }
  for (const list of books.values()) for (const p of list) p.hosts.sort();
  return books;
}

/** Multiset difference a − b. */
function minus(a: string[], b: string[]): string[] {
  const left = [...b];
  return a.filter((x) => {
    const i = left.indexOf(x);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}

function hasAnsible(): boolean {
  try {
    execFileSync('ansible-playbook', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = hasAnsible();
if (!available && process.env.CI === 'true') throw new Error('ansible-playbook is missing: scripts/install-deps.sh installs ansible-core, the oracle of this test');

describe.skipIf(!available)('plumb lists what ansible-playbook lists', { timeout: 120_000 }, () => {
  const flags = ['--list-hosts', '--list-tasks', '--list-tags'];
  let ansible: Map<string, Listed[]>;
  const plumb = new Map<string, Listed[]>();

  it('runs both on the corpus', async () => {
    const home = mkdtempSync(join(tmpdir(), 'plumb-ansible-'));
    // One start of Ansible for every playbook; no user or system roles path may leak in.
    const out = execFileSync('ansible-playbook', ['-i', 'inventory.yaml', ...playbooks, ...flags], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: home, ANSIBLE_NOCOLOR: '1', ANSIBLE_ROLES_PATH: join(home, 'roles'), ANSIBLE_LOCAL_TEMP: join(home, 'tmp') },
    });
    ansible = parse(out);
    for (const p of playbooks) {
      let stdout = '';
      const code = await run(['plan', `${dir}/${p}`, '-i', `${dir}/inventory.yaml`, ...flags], {
        stdout: (t) => (stdout += t),
        stderr: () => undefined,
        env: { PATH: process.env.PATH },
      });
      expect(code, p).toBe(0);
      plumb.set(p, parse(stdout).get(p)!);
    }
    expect([...ansible.keys()].sort()).toEqual([...playbooks].sort());
  });

  it('agrees on every playbook, except the recorded deliberate differences', () => {
    let agree = 0;
    for (const p of playbooks) {
      const a = ansible.get(p)!;
      const b = plumb.get(p)!;
      expect(
        b.map((x) => x.header),
        p,
      ).toEqual(a.map((x) => x.header));
      expect(
        b.map((x) => x.hosts),
        p,
      ).toEqual(a.map((x) => x.hosts));
      expect(
        b.map((x) => x.tags),
        p,
      ).toEqual(a.map((x) => x.tags));
      const at = a.flatMap((x) => x.tasks);
      const bt = b.flatMap((x) => x.tasks);
      if (JSON.stringify(at) === JSON.stringify(bt)) agree++;
      expect({ ansibleOnly: minus(at, bt), plumbOnly: minus(bt, at) }, p).toEqual(deliberate[p] ?? { ansibleOnly: [], plumbOnly: [] });
    }
    console.log(
      `ansible-playbook and plumb list the same hosts, tags and tasks on ${agree} of ${playbooks.length} playbooks; the other ${playbooks.length - agree} differ only as recorded`,
    );
    expect(agree).toBe(playbooks.length - Object.keys(deliberate).length);
  });
});
