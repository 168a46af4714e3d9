/**
 * Runs the module differential cases and prints test/modules/oracle/known-differences.yaml as it
 * should be for this checkout: every disagreeing case, grouped by reason. A case already listed
 * keeps its reason; a new one gets "unexplained: <what differs>" to be replaced by a real reason.
 *   npx tsx test/modules/oracle/list-differences.ts > known.yaml            (all cases)
 *   npx tsx test/modules/oracle/list-differences.ts --report [ID-REGEXP]    (what differs, for a human)
 */
import { existsSync } from 'node:fs';
import { stringify } from 'yaml';
import { ansibleAvailable, compareAll, knownDifferencesFile, loadCases, readKnownDifferences } from './harness.js';

async function main(): Promise<void> {
  if (!ansibleAvailable()) {
    console.error('needs ansible-playbook (ansible-core): scripts/install-deps.sh installs it');
    process.exit(2);
  }
  const report = process.argv[2] === '--report';
  const prefix = report ? process.argv[3] : undefined;
  const started = Date.now();
  const results = await compareAll(loadCases().filter((c) => !prefix || new RegExp(prefix).test(c.id)));
  const agreeing = results.filter((r) => r.agree).length;
  if (report) {
    for (const r of results) if (!r.agree) console.log(`${r.case.id}: ${r.difference}\n`);
    console.log(`${agreeing}/${results.length} cases agree with Ansible (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return;
  }
  const kept = new Map<string, string>();
  if (existsSync(knownDifferencesFile)) for (const d of readKnownDifferences().differences) for (const id of d.cases) kept.set(id, d.reason);
  const groups = new Map<string, string[]>();
  for (const r of results) {
    if (r.agree) continue;
    const reason = kept.get(r.case.id) ?? `unexplained: ${r.difference}`;
    groups.set(reason, [...(groups.get(reason) ?? []), r.case.id]);
  }
  const header = [
    '# Cases where plumb and Ansible end in a different state or report a different outcome',
    '# (test/e2e/module-oracle.test.ts keeps this list exact). Regenerate after a module change:',
    '#   npx tsx test/modules/oracle/list-differences.ts > test/modules/oracle/known-differences.yaml',
    `# Agreement when generated: ${agreeing}/${results.length}.`,
  ].join('\n');
  const differences = [...groups.entries()].map(([reason, cases]) => ({ reason, cases }));
  process.stdout.write(`${header}\n${stringify({ differences }, { lineWidth: 0 })}`);
}

void main();
