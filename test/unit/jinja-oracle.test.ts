/**
 * Differential test: every case under test/jinja/cases is rendered by Ansible
 * (test/oracle/jinja_render.py: ansible-core's Templar with Ansible's own
 * filters, tests and lookups, configured as the template module configures
 * it) and by plumb (test/jinja/plumb-render.ts), and the outputs are compared
 * byte for byte. Where they differ, test/jinja/known-differences.yaml must say
 * so, case by case, and the agreement may not fall below its minimum; the list
 * must also stay exact (a case that now agrees must leave it). A sample of
 * cases also goes through the real `ansible-playbook` template module, so the
 * batch oracle itself is checked against what users run.
 * In CI (CI=true) missing python3/jinja2/ansible-core fails this file instead of skipping it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCases, repoRoot, type JinjaCase } from '../jinja/cases.js';
import { agreementByArea, compareAll, expectedText, readKnownDifferences, type Outcome } from '../jinja/compare.js';
import { ansiblePython } from '../jinja/oracle.js';

const python = ansiblePython();
const inCI = process.env.CI === 'true';
if (!python && !inCI) console.warn('Jinja differential tests skipped: python3 with jinja2 and ansible-core is not installed (scripts/install-deps.sh installs it)');

const cases = loadCases();

describe.skipIf(!python && !inCI)('plumb renders Jinja as Ansible does (test/jinja/cases)', { timeout: 120_000 }, () => {
  let outcomes: Outcome[] = [];
  beforeAll(() => {
    if (python) outcomes = compareAll(python, cases);
  });

  it('python3 with jinja2 and ansible-core is installed (CI must run the oracle, not skip it)', () => {
    expect(python, 'ansible-core not found: run scripts/install-deps.sh').toBeDefined();
  });

  it('has at least 300 cases, over every area', () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
    expect(new Set(cases.map((c) => c.area)).size).toBeGreaterThanOrEqual(10);
  });

  it('Ansible refuses exactly the cases written as errors (the cases say what they mean)', () => {
    const wrong = outcomes.filter((o) => o.case.error === o.ansible.ok).map((o) => `${o.case.id}: ${JSON.stringify(o.ansible)}`);
    expect(wrong).toEqual([]);
  });

  it('agrees with Ansible at least as often as known-differences.yaml records', () => {
    const agreeing = outcomes.filter((o) => o.agree).length;
    const summary = [...agreementByArea(outcomes)].map(([area, a]) => `${area} ${a.agree}/${a.total}`).join(', ');
    console.log(`Jinja agreement with Ansible: ${agreeing}/${outcomes.length} (${summary})`);
    expect(agreeing / outcomes.length).toBeGreaterThanOrEqual(readKnownDifferences().minimum_agreement);
  });

  it('lists every disagreeing case in known-differences.yaml, with a reason', () => {
    const known = readKnownDifferences();
    const listed = new Set(known.differences.flatMap((d) => d.cases));
    for (const d of known.differences) expect(d.reason, `a reason for ${d.cases.join(', ')}`).toMatch(/\S/);
    const unlisted = outcomes
      .filter((o) => !o.agree && !listed.has(o.case.id))
      .map(
        (o) =>
          `${o.case.id}: Ansible ${JSON.stringify(o.ansible.ok ? expectedText(o.ansible) : o.ansible.error)}, plumb ${JSON.stringify(o.plumb.ok ? o.plumb.text : o.plumb.error)}`,
      );
    expect(unlisted).toEqual([]);
  });

  it('lists only cases that exist and still disagree, each once (the list stays exact)', () => {
    const ids = readKnownDifferences().differences.flatMap((d) => d.cases);
    const byId = new Map(outcomes.map((o) => [o.case.id, o]));
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    expect(ids.filter((id) => !byId.has(id))).toEqual([]);
    expect(ids.filter((id) => byId.get(id)?.agree)).toEqual([]);
  });

  it('the batch oracle renders as the real template module does (a sample through ansible-playbook)', () => {
    const sample = templateModuleSample(cases);
    expect(sample.length).toBeGreaterThanOrEqual(10);
    const dir = mkdtempSync(join(tmpdir(), 'plumb-jinja-'));
    try {
      mkdirSync(join(dir, 'templates'));
      mkdirSync(join(dir, 'out'));
      const tasks = sample.map((c, i) => {
        writeFileSync(join(dir, 'templates', `${i}.j2`), c.template);
        const args = { src: `${i}.j2`, dest: join(dir, 'out', String(i)), ...c.options };
        return `    - template: ${JSON.stringify(args)}\n      vars: ${c.oracleVars}\n`;
      });
      writeFileSync(join(dir, 'play.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n${tasks.join('')}`);
      const r = spawnSync('ansible-playbook', ['-c', 'local', '-i', 'localhost,', 'play.yml'], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ANSIBLE_CONFIG: join(repoRoot, 'test/oracle/neutral.cfg'), ANSIBLE_LOCALHOST_WARNING: 'false' },
      });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const byId = new Map(outcomes.map((o) => [o.case.id, o]));
      const differing = sample.filter((c, i) => readFileSync(join(dir, 'out', String(i)), 'utf8') !== expectedText(byId.get(c.id)!.ansible)).map((c) => c.id);
      expect(differing).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Variables Ansible itself sets or refuses in play vars: such cases stay out of the playbook sample. */
const magicVariables = /"(groups|group_names|hostvars|inventory_hostname|omit|play_hosts|environment)"/;

/**
 * Every twentieth template-mode case (a template task costs Ansible ~0.6 s) that renders, reads no environment, lookup, template_* variable
 * or float marker (a play's vars are the case's JSON as YAML).
 */
function templateModuleSample(all: JinjaCase[]): JinjaCase[] {
  const eligible = all.filter(
    (c) =>
      c.mode === 'template' &&
      !c.error &&
      Object.keys(c.env).length === 0 &&
      !/lookup|query|\bq\(|template_/.test(c.template) &&
      !c.oracleVars.includes('__float__') &&
      !magicVariables.test(c.oracleVars),
  );
  return eligible.filter((_, i) => i % 20 === 0);
}
