/**
 * Differential test of the modules against Ansible (issue 15, proof 3): every case under
 * test/modules/oracle/cases runs under `ansible-playbook` and under plumb on identical scratch
 * directories, twice each (test/modules/oracle/harness.ts); the files (type, mode, owner,
 * bytes, link targets) and ok/changed/failed must match after both runs. Where they differ,
 * test/modules/oracle/known-differences.yaml says so, case by case, with the reason; the list
 * must stay exact (a case that now agrees must leave it).
 * Needs root (cases set owners) and ansible-core; under CI=true either missing fails the file.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ansibleAvailable, type CaseResult, compareAll, loadCases, readKnownDifferences } from '../modules/oracle/harness.js';

const isRoot = process.getuid?.() === 0;
const ansible = ansibleAvailable();
const inCI = process.env.CI === 'true';
const runnable = isRoot && ansible;
if (!runnable && !inCI) console.warn('module oracle tests skipped: they need root and ansible-core (scripts/install-deps.sh installs it)');

const cases = loadCases();

describe.skipIf(!runnable && !inCI)('modules end in the state Ansible leaves (test/modules/oracle/cases)', { timeout: 900_000 }, () => {
  let results: CaseResult[] = [];
  beforeAll(async () => {
    if (runnable) results = await compareAll(cases);
  }, 900_000);

  it('runs as root with ansible-core installed (CI must run the oracle, not skip it)', () => {
    expect(ansible, 'ansible-playbook not found: run scripts/install-deps.sh').toBe(true);
    expect(isRoot, 'the cases set owners: run as root').toBe(true);
  });

  it('has at least 100 cases, over every file and command module', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
    expect(new Set(cases.map((c) => c.module))).toEqual(
      new Set([
        'assert',
        'blockinfile',
        'command',
        'copy',
        'debug',
        'fail',
        'file',
        'get_url',
        'ini_file',
        'lineinfile',
        'replace',
        'shell',
        'stat',
        'template',
        'unarchive',
        'wait_for',
      ]),
    );
  });

  it('lists exactly the disagreeing cases in known-differences.yaml, each with a reason', () => {
    const known = readKnownDifferences();
    const listed = new Map(known.differences.flatMap((d) => d.cases.map((id) => [id, d.reason] as const)));
    for (const d of known.differences) expect(d.reason, `a reason for ${d.cases.join(', ')}`).toMatch(/^(?!unexplained)\S/);
    const agreeing = results.filter((r) => r.agree).length;
    console.log(`module agreement with Ansible: ${agreeing}/${results.length}`);
    const unlisted = results.filter((r) => !r.agree && !listed.has(r.case.id)).map((r) => `${r.case.id}: ${r.difference}`);
    expect(unlisted, 'cases that differ from Ansible but are not in known-differences.yaml').toEqual([]);
    const nowAgree = results.filter((r) => r.agree && listed.has(r.case.id)).map((r) => r.case.id);
    expect(nowAgree, 'cases listed in known-differences.yaml that now agree (remove them)').toEqual([]);
    const unknown = [...listed.keys()].filter((id) => !cases.some((c) => c.id === id));
    expect(unknown, 'known-differences.yaml names cases that do not exist').toEqual([]);
  });
});
