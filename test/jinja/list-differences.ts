/**
 * Prints test/jinja/known-differences.yaml as it should be for the engine in
 * this checkout: every case where plumb and Ansible disagree, grouped by
 * reason, and the current agreement as the new minimum. A case already listed
 * keeps its reason; a new one gets a guessed "engine: …" reason to refine.
 *   npx tsx test/jinja/list-differences.ts > test/jinja/known-differences.yaml
 */
import { existsSync } from 'node:fs';
import { stringify } from 'yaml';
import { loadCases } from './cases.js';
import { agreementByArea, compareAll, knownDifferencesFile, readKnownDifferences, type KnownDifferences, type Outcome } from './compare.js';
import { ansiblePython } from './oracle.js';

function guessReason(o: Outcome): string {
  const { plumb, ansible, case: c } = o;
  if (plumb.ok) return ansible.ok ? 'engine: output differs (value printing, numbers, comments or whitespace)' : 'engine: renders what Ansible refuses';
  const e = plumb.error;
  if (e.startsWith('template options not supported')) return 'engine: template options (trim_blocks, lstrip_blocks, newline_sequence, delimiters) not supported';
  if (e.includes('statements such as')) return 'engine: statements ({% %}) not supported';
  if (e.includes('unknown filter')) return 'engine: filter not supported';
  if (e.includes('unknown test')) return 'engine: test not supported';
  if (e.includes('function calls are not supported'))
    return /\b(lookup|query|q)\(/.test(c.template)
      ? 'engine: lookup()/query() not supported'
      : 'engine: calls (range(), dict(), methods, filter arguments by keyword) not supported';
  if (/unexpected|expected/.test(e)) return 'engine: expression syntax not supported (//, **, slices, tuples, keyword arguments, number literals)';
  return 'engine: refuses a template Ansible renders';
}

const python = ansiblePython();
if (!python) {
  console.error('needs ansible-core (python3 with jinja2 and ansible): scripts/install-deps.sh installs it');
  process.exit(2);
}
const outcomes = compareAll(python, loadCases());
const known = existsSync(knownDifferencesFile) ? readKnownDifferences() : undefined;
const keptReason = new Map<string, string>();
for (const d of known?.differences ?? []) for (const id of d.cases) keptReason.set(id, d.reason);

const groups = new Map<string, string[]>();
for (const o of outcomes) {
  if (o.agree) continue;
  const reason = keptReason.get(o.case.id) ?? guessReason(o);
  groups.set(reason, [...(groups.get(reason) ?? []), o.case.id]);
}
const agreeing = outcomes.filter((o) => o.agree).length;
const out: KnownDifferences = {
  minimum_agreement: Math.floor((agreeing / outcomes.length) * 1000) / 1000,
  differences: [...groups].map(([reason, cases]) => ({ reason, cases })),
};
for (const [area, a] of agreementByArea(outcomes)) console.error(`${area}: ${a.agree}/${a.total}`);
console.error(`agreement: ${agreeing}/${outcomes.length}`);
process.stdout.write(
  [
    '# Cases where plumb renders differently from Ansible (test/unit/jinja-oracle.test.ts keeps this list exact).',
    '# minimum_agreement: agreeing cases / all cases; the test fails below it. Regenerate after an engine change:',
    '#   npx tsx test/jinja/list-differences.ts > test/jinja/known-differences.yaml',
    stringify(out, { lineWidth: 0 }),
  ].join('\n'),
);
