/**
 * Renders every case with Ansible (the oracle) and with plumb (through
 * plumb-render.ts) and says, case by case, whether the outputs are the same
 * bytes. A case written with `error: true` agrees when both refuse it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { repoRoot, type JinjaCase } from './cases.js';
import { renderWithAnsible, type OracleResult } from './oracle.js';
import { renderCase, type PlumbResult } from './plumb-render.js';

export interface Outcome {
  case: JinjaCase;
  ansible: OracleResult;
  plumb: PlumbResult;
  agree: boolean;
}

/** What Ansible produced, as the text plumb must produce: expression values as JSON. */
export function expectedText(r: OracleResult): string | undefined {
  if (!r.ok) return undefined;
  return 'text' in r ? r.text : JSON.stringify(r.value);
}

export function compareAll(python: string, cases: JinjaCase[]): Outcome[] {
  const ansible = renderWithAnsible(python, cases);
  return cases.map((c) => {
    const want = ansible[c.id];
    if (!want) throw new Error(`the oracle returned nothing for ${c.id}`);
    const got = renderCase(c);
    const agree = want.ok ? got.ok && got.text === expectedText(want) : !got.ok;
    return { case: c, ansible: want, plumb: got, agree };
  });
}

export const knownDifferencesFile = resolve(repoRoot, 'test/jinja/known-differences.yaml');

export interface KnownDifferences {
  /** The lowest agreement ratio (agreeing cases / all cases) the suite accepts. */
  minimum_agreement: number;
  /** Each reason with the cases it explains. */
  differences: Array<{ reason: string; cases: string[] }>;
}

export function readKnownDifferences(): KnownDifferences {
  const data = parse(readFileSync(knownDifferencesFile, 'utf8')) as KnownDifferences;
  return { minimum_agreement: data.minimum_agreement, differences: data.differences ?? [] };
}

/** Agreement per area, for the summary both the test and the lister print. */
export function agreementByArea(outcomes: Outcome[]): Map<string, { agree: number; total: number }> {
  const byArea = new Map<string, { agree: number; total: number }>();
  for (const o of outcomes) {
    const a = byArea.get(o.case.area) ?? { agree: 0, total: 0 };
    a.total++;
    if (o.agree) a.agree++;
    byArea.set(o.case.area, a);
  }
  return byArea;
}
