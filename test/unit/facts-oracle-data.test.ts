/**
 * Ansible's own code as the oracle for fact data (no host needed): every
 * services data case (test/facts/cases/services/) parsed by ansible-core's
 * service_facts functions must give plumb's value, and setup's `filter`
 * patterns must match as Python's fnmatch does. Fails, never skips, under
 * CI=true when ansible-core is missing.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { services } from '../../src/facts/services.js';
import { fnmatchRegExp } from '../../src/modules/fact-lists.js';

const ORACLE = resolve('test/fixtures/ansible/facts/oracle.py');
const CASES = resolve('test/facts/cases/services');
const hasAnsible = spawnSync('/usr/bin/python3', ['-c', 'import ansible.modules.service_facts']).status === 0;
const runOracle = hasAnsible || process.env.CI === 'true';
if (!runOracle) console.warn('facts data oracle skipped: ansible-core is not installed (scripts/install-deps.sh installs it)');

function oracle(request: unknown): unknown {
  const r = spawnSync('/usr/bin/python3', [ORACLE], { input: JSON.stringify(request), encoding: 'utf8', env: { PATH: process.env.PATH, PYTHONDONTWRITEBYTECODE: '1' } });
  if (r.status !== 0) throw new Error(`oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The case's sections as the snippet printed them (the parser's own framing). */
function sectionsOf(stdout: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('::plumb-services ')) out[line.slice('::plumb-services '.length)] = current = [];
    else if (line.startsWith('|') && current) current.push(line.slice(1));
  }
  return out;
}

describe.skipIf(!runOracle)("fact data against Ansible's own parsers", () => {
  it('ansible-core is installed (CI installs it)', () => expect(hasAnsible).toBe(true));

  const files = readdirSync(CASES).filter((f) => f.endsWith('.yaml') && !f.startsWith('hostile') && !f.startsWith('incomplete'));
  it.each(files)('service_facts parses %s as plumb does', (file) => {
    const c = parse(readFileSync(join(CASES, file), 'utf8')) as { output: string };
    const ours = services.parse({}, { stdout: c.output, stderr: '', code: 0 });
    expect(ours.known).toBe(true);
    if (ours.known) expect(ours.state).toEqual(oracle({ services: sectionsOf(c.output) }));
  });

  it("setup's filter patterns match as Python's fnmatch", () => {
    const names = [
      'ansible_hostname',
      'ansible_distribution_major_version',
      'ansible_default_ipv4',
      'ansible_memtotal_mb',
      'ansible_[x]',
      'ansible_a.b',
      'ansible_env',
      'ansible_!x',
    ];
    const patterns = [
      'ansible_*',
      'ansible_d*',
      '*_mb',
      'ansible_?ostname',
      'ansible_[dm]e*',
      'ansible_[!d]*',
      'ansible_[]x]*',
      'ansible_[',
      'ansible_a.b',
      'ansible_a?b',
      'ansible_[^a]*',
      'ansible_[!]*',
      'ansible_[a-e]*',
      'ansible_[!!]*',
      '*',
    ];
    const pairs = patterns.flatMap((p) => names.map((n) => [p, n] as const));
    const theirs = oracle({ fnmatch: pairs }) as boolean[];
    const ours = pairs.map(([p, n]) => fnmatchRegExp(p).test(n));
    const differ = pairs.filter((_, i) => ours[i] !== theirs[i]);
    expect(differ).toEqual([]);
  });
});
