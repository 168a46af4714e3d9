/**
 * Issue 13 facts against real Ansible as the oracle: Ansible's own `setup`
 * and `service_facts` on a fleet host, and `package_facts` on this machine
 * (the fleet image has no python3-apt, which Ansible's apt manager needs),
 * each against plumb's on the same host. Both write `ansible_facts` as JSON
 * with the same playbook (a copy task), so the comparison is of what a
 * playbook sees. Every fact plumb gathers must equal Ansible's value, except
 * the differences listed in KNOWN with the reason.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { plumb } from './plumb.js';

const isRoot = process.getuid?.() === 0;
const runE2E = isRoot || process.env.CI === 'true';
if (!runE2E) console.warn('facts oracle e2e tests skipped: they need root (network namespaces, overlayfs, chroot)');
const hasAnsible = spawnSync('ansible-playbook', ['--version']).status === 0;

/** Where plumb's value differs from Ansible's on purpose or by necessity, and why. */
const KNOWN: Record<string, string> = {
  // Per connection or per process: Ansible's python module and plumb's sh snippet are different processes.
  'env._': "the program that read the environment (/usr/bin/python3 for Ansible's module, awk for plumb)",
  'env.SSH_CLIENT': "each connection's own source port",
  'env.SSH_CONNECTION': "each connection's own source port",
  'env.SSH_TTY': "Ansible's ssh asks for a terminal (-tt); plumb's probe runs without one",
  'env.LC_CTYPE': 'Python sets LC_CTYPE=C.UTF-8 in its own environment when the locale is C (PEP 538)',
  memfree_mb: 'free memory changes from second to second',
  // The fleet's minbase hosts have no iproute2: Ansible then gathers no network facts at all, plumb
  // reads the kernel's tables (/proc/net; /sys/class/net, which the fleet's chroot does not mount).
  default_ipv4: 'without iproute2 Ansible has none; plumb reads /proc/net/route',
  all_ipv4_addresses: 'without iproute2 Ansible has none; plumb reads /proc/net/fib_trie',
  interfaces: 'without iproute2 Ansible has none; plumb lists /sys/class/net',
};

function ansiblePlaybook(inventory: string, playbook: string, extra: string[] = []) {
  const r = spawnSync('ansible-playbook', ['-i', inventory, ...extra, playbook], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: 'false',
      ANSIBLE_LOCALHOST_WARNING: 'false',
      ANSIBLE_HOST_KEY_CHECKING: 'true',
    },
  });
  if (r.error) throw r.error;
  return r;
}

/** Every leaf path where plumb's facts differ from Ansible's (plumb's facts are the ones compared). */
function differences(plumbFacts: unknown, ansibleFacts: unknown, path = ''): string[] {
  if (plumbFacts !== null && typeof plumbFacts === 'object' && !Array.isArray(plumbFacts)) {
    if (ansibleFacts === null || typeof ansibleFacts !== 'object' || Array.isArray(ansibleFacts)) return [path];
    const both = new Set([...Object.keys(plumbFacts), ...(path === '' ? [] : Object.keys(ansibleFacts))]);
    return [...both].flatMap((k) => differences((plumbFacts as Record<string, unknown>)[k], (ansibleFacts as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(plumbFacts) === JSON.stringify(ansibleFacts) ? [] : [path];
}

const dumpPlay = (hosts: string, dest: string, tasks: Array<Record<string, unknown>>, play: Record<string, unknown> = {}) => [
  { name: 'facts', hosts, ...play, tasks: [...tasks, { name: 'dump', copy: { content: '{{ ansible_facts | to_json }}', dest } }] },
];

describe.skipIf(!runE2E)('facts against Ansible on a fleet host', { timeout: 300_000 }, () => {
  let fleet: Fleet;
  let dir: string;
  let host: string;
  let ansibleFacts: Record<string, unknown>;
  let plumbFacts: Record<string, unknown>;

  beforeAll(async () => {
    fleet = await startFleet({ hosts: 1 });
    host = fleet.hosts[0].name;
    dir = mkdtempSync(join(tmpdir(), 'plumb-facts-oracle-'));
    // Ansible first (it gathers everything, then service_facts), then plumb with the same tasks.
    const book = join(dir, 'facts.yaml');
    writeFileSync(book, stringify(dumpPlay(host, '/root/ansible-facts.json', [{ name: 'services', service_facts: {} }])));
    const a = ansiblePlaybook(fleet.ansibleInventoryPath, book);
    if (a.status !== 0) throw new Error(`ansible-playbook failed: ${a.stdout}\n${a.stderr}`);
    ansibleFacts = JSON.parse(await fleet.sh(host, 'cat /root/ansible-facts.json'));
    writeFileSync(book, stringify(dumpPlay(host, '/root/plumb-facts.json', [{ name: 'services', service_facts: {} }])));
    const p = await plumb(['apply', book, '-i', fleet.inventoryPath, '--known-hosts', fleet.knownHostsPath]);
    if (p.code !== 0) throw new Error(`plumb apply failed: ${p.stdout}\n${p.stderr}`);
    plumbFacts = JSON.parse(await fleet.sh(host, 'cat /root/plumb-facts.json'));
  }, 900_000);

  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ansible-playbook is installed (CI installs it)', () => {
    expect(hasAnsible).toBe(true);
  });

  it('every fact plumb gathers has the value Ansible gives, but for the known differences', () => {
    const { services, ...facts } = plumbFacts;
    const { services: _ansibleServices, ...theirs } = ansibleFacts;
    const diff = differences(facts, theirs);
    const unexplained = diff.filter((d) => !(d in KNOWN));
    console.log(`facts oracle: ${Object.keys(facts).length} facts, ${diff.length} differ (${diff.join(', ') || 'none'}); unexplained: ${unexplained.join(', ') || 'none'}`);
    for (const d of unexplained) console.log(`  ${d}: plumb ${JSON.stringify(pick(facts, d))} ansible ${JSON.stringify(pick(theirs, d))}`);
    expect(unexplained).toEqual([]);
    expect(Object.keys(facts).length).toBeGreaterThan(30);
    expect(services).toBeDefined();
  });

  it('service_facts: the same services with the same states', () => {
    expect(Object.keys(plumbFacts.services as object).length).toBeGreaterThan(0);
    expect(plumbFacts.services).toEqual(ansibleFacts.services);
  });
});

function pick(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

describe.skipIf(!runE2E)('package_facts against Ansible on this machine', { timeout: 120_000 }, () => {
  it('the same packages, versions and architectures; the same sections for nearly all (python-apt is here)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plumb-package-facts-'));
    try {
      const book = join(dir, 'packages.yaml');
      const inventory = join(dir, 'inventory.yaml');
      writeFileSync(inventory, stringify({ all: { hosts: { localhost: { connection: 'local' } } } }));
      writeFileSync(book, stringify(dumpPlay('localhost', join(dir, 'ansible.json'), [{ package_facts: { manager: 'auto' } }], { gather_facts: false })));
      const a = ansiblePlaybook('localhost,', book, ['-c', 'local', '-e', 'ansible_python_interpreter=/usr/bin/python3']);
      expect(a.status, a.stdout + a.stderr).toBe(0);
      writeFileSync(book, stringify(dumpPlay('localhost', join(dir, 'plumb.json'), [{ package_facts: { manager: 'auto' } }], { gather_facts: false })));
      const p = await plumb(['apply', book, '-i', inventory]);
      expect(p.code, p.stdout + p.stderr).toBe(0);
      type Entry = Record<string, unknown>;
      const theirs = JSON.parse(readFileSync(join(dir, 'ansible.json'), 'utf8')).packages as Record<string, Entry[]>;
      const ours = JSON.parse(readFileSync(join(dir, 'plumb.json'), 'utf8')).packages as Record<string, Entry[]>;
      // Ansible's entries also carry `origin` (from apt's lists), which plumb does not read.
      // python-apt's `category` is the Section of apt's lists where the version is in one, plumb's the Section
      // dpkg recorded at install: they differ where the archive moved a package (libs → oldlibs).
      const core = (list: Entry[]) => list.map(({ origin: _origin, category: _category, ...rest }) => rest);
      const names = new Set([...Object.keys(theirs), ...Object.keys(ours)]);
      const differ = [...names].filter((n) => JSON.stringify(core(theirs[n] ?? [])) !== JSON.stringify(core(ours[n] ?? [])));
      const sections = [...names].filter((n) => JSON.stringify(theirs[n]?.map((e) => e.category)) !== JSON.stringify(ours[n]?.map((e) => e.category)));
      console.log(
        `package_facts oracle: ${names.size} packages, ${differ.length} differ in name/version/arch; category differs for ${sections.length} (${sections.slice(0, 8).join(', ')})`,
      );
      for (const n of differ.slice(0, 5)) console.log(`  ${n}: plumb ${JSON.stringify(ours[n])} ansible ${JSON.stringify(theirs[n])}`);
      expect(differ).toEqual([]);
      expect(names.size).toBeGreaterThan(50);
      expect(sections.length).toBeLessThan(names.size / 10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
