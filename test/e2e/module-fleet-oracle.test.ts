/**
 * Differential test of the modules that change the system, against Ansible on real Debian fleet
 * hosts (issue 15, proof 3): every case under test/modules/oracle/fleet-cases runs under
 * `ansible-playbook` on one host and under plumb on an identical one, twice each
 * (test/modules/oracle/fleet-harness.ts); what each case's observe script prints and
 * ok/changed/failed must match after both runs. test/modules/oracle/fleet-known-differences.yaml
 * lists the cases that differ, with the reason, and must stay exact.
 * Needs root (the fleet) and ansible-core; under CI=true either missing fails the file.
 * ORACLE_MODULES=apt,service runs only those modules' cases (while writing cases).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { compareOnFleet, type FleetCase, fleetKnownDifferencesFile, loadFleetCases } from '../modules/oracle/fleet-harness.js';
import { ansibleAvailable, type CaseResult, loadCases, readKnownDifferences } from '../modules/oracle/harness.js';

const isRoot = process.getuid?.() === 0;
const ansible = ansibleAvailable();
const inCI = process.env.CI === 'true';
const runnable = isRoot && ansible;
if (!runnable && !inCI) console.warn('fleet module oracle tests skipped: they need root (the fleet) and ansible-core (scripts/install-deps.sh)');

const only = process.env.ORACLE_MODULES?.split(',').filter(Boolean);
const allCases = loadFleetCases();
const cases = only ? loadFleetCases(only) : allCases;
/** Host pairs at once: each batch runs one ansible-playbook and one plumb over this many cases. */
const pairs = Math.max(1, Math.min(cases.length, Number(process.env.ORACLE_PAIRS ?? 10)));

describe.skipIf(!runnable && !inCI)('system modules end in the state Ansible leaves, on fleet hosts (test/modules/oracle/fleet-cases)', { timeout: 3_600_000 }, () => {
  let fleet: Fleet | undefined;
  let results: Array<CaseResult<FleetCase>> = [];
  beforeAll(async () => {
    if (!runnable) return;
    fleet = await startFleet({ hosts: 2 * pairs });
    results = await compareOnFleet(fleet, cases, { log: (l) => console.log(l) });
  }, 3_600_000);
  afterAll(async () => {
    await fleet?.stop();
  });

  it('runs as root with ansible-core installed (CI must run the oracle, not skip it)', () => {
    expect(ansible, 'ansible-playbook not found: run scripts/install-deps.sh').toBe(true);
    expect(isRoot, 'the fleet needs root').toBe(true);
  });

  it('has cases, and no case id is also a scratch-directory case', () => {
    expect(allCases.length).toBeGreaterThan(0);
    const scratch = new Set(loadCases().map((c) => c.id));
    expect(allCases.filter((c) => scratch.has(c.id)).map((c) => c.id)).toEqual([]);
  });

  it('lists exactly the disagreeing cases in fleet-known-differences.yaml, each with a reason', () => {
    const known = readKnownDifferences(fleetKnownDifferencesFile);
    const listed = new Map(known.differences.flatMap((d) => d.cases.map((id) => [id, d.reason] as const)));
    for (const d of known.differences) expect(d.reason, `a reason for ${d.cases.join(', ')}`).toMatch(/^(?!unexplained)\S/);
    const agreeing = results.filter((r) => r.agree).length;
    console.log(`system module agreement with Ansible on fleet hosts: ${agreeing}/${results.length}`);
    const unlisted = results.filter((r) => !r.agree && !listed.has(r.case.id)).map((r) => `${r.case.id}: ${r.difference}`);
    expect(unlisted, 'cases that differ from Ansible but are not in fleet-known-differences.yaml').toEqual([]);
    const nowAgree = results.filter((r) => r.agree && listed.has(r.case.id)).map((r) => r.case.id);
    expect(nowAgree, 'cases listed in fleet-known-differences.yaml that now agree (remove them)').toEqual([]);
    const unknown = [...listed.keys()].filter((id) => !allCases.some((c) => c.id === id));
    expect(unknown, 'fleet-known-differences.yaml names cases that do not exist').toEqual([]);
  });
});
