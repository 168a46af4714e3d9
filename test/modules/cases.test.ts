/**
 * Table-driven module tests, pyinfra style: every file under
 * test/modules/cases/<module>/ is one case — arguments and probe output in,
 * parsed state, change summaries and step commands out. Adding a case is
 * adding a file. Every case also checks the invariants that hold for all
 * modules: the probe is valid sh, the state survives JSON, and no secret
 * reaches a Change, a step's description or an unknown reason.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { modules, type ModuleName } from '../../src/modules/index.js';
import type { Step } from '../../src/modules/types.js';
import { fakeContext, type FakeContextOptions } from './context.js';

interface StepExpectation {
  write: string;
  mode?: string;
  owner?: string;
  group?: string;
  content?: string;
}

interface Case {
  description: string;
  args: unknown;
  /** The arguments must be refused with this message (nothing else is checked). */
  argsError?: string;
  context?: FakeContextOptions;
  /** Substrings the probe snippet must (not) contain. */
  probeContains?: string[];
  probeExcludes?: string[];
  output?: { stdout: string; stderr?: string; code?: number };
  state?: unknown;
  /** A subset of the state (toMatchObject). */
  stateMatches?: Record<string, unknown>;
  unknown?: string;
  changes?: string[];
  /** Substrings of the joined unified diffs; `[]` means: no change may carry a diff. */
  diffContains?: string[];
  /** Substrings no diff may contain. */
  diffExcludes?: string[];
  error?: string;
  steps?: Array<string | StepExpectation>;
  describes?: string[];
}

const root = join(import.meta.dirname, 'cases');

function stepShape(step: Step): string | StepExpectation {
  if (step.kind === 'exec') return step.command;
  const out: StepExpectation = { write: step.path };
  if (step.mode !== undefined) out.mode = step.mode;
  if (step.owner !== undefined) out.owner = step.owner;
  if (step.group !== undefined) out.group = step.group;
  out.content = Buffer.isBuffer(step.content) ? step.content.toString('utf8') : step.content;
  return out;
}

for (const moduleName of readdirSync(root).sort()) {
  const module = modules[moduleName as ModuleName];
  describe(`${moduleName} cases`, () => {
    it('names a registered module', () => expect(module, `no module ${moduleName}`).toBeDefined());
    const files = readdirSync(join(root, moduleName)).filter((f) => /\.ya?ml$/.test(f)).sort();
    it.each(files)('%s', (file) => {
      const c = parseYaml(readFileSync(join(root, moduleName, file), 'utf8')) as Case;
      const ctx = fakeContext(c.context);
      const secrets = c.context?.secrets ?? [];
      if (c.argsError !== undefined) {
        const result = module.schema.safeParse(c.args);
        expect(result.success).toBe(false);
        if (!result.success) expect(result.error.issues.map((i) => i.message).join('\n')).toContain(c.argsError);
        return;
      }
      const args = module.schema.parse(c.args);
      if (c.output === undefined) throw new Error('a case needs `output` (the probe output) unless it has `argsError`');

      const snippet = module.probe(args, ctx);
      execFileSync('/bin/sh', ['-n', '-c', snippet]); // throws on a syntax error
      for (const s of c.probeContains ?? []) expect(snippet).toContain(s);
      for (const s of c.probeExcludes ?? []) expect(snippet).not.toContain(s);

      const probed = module.parse(args, { stdout: c.output.stdout, stderr: c.output.stderr ?? '', code: c.output.code ?? 0 }, ctx);
      if (c.unknown !== undefined) {
        expect(probed.known).toBe(false);
        if (!probed.known) {
          expect(probed.reason).toContain(c.unknown);
          for (const s of secrets) expect(probed.reason).not.toContain(s);
        }
        return;
      }
      if (!probed.known) throw new Error(`expected a known state, got unknown: ${probed.reason}`);
      const state = probed.state;
      expect(JSON.parse(JSON.stringify(state))).toEqual(state);
      if (c.state !== undefined) expect(state).toEqual(c.state);
      if (c.stateMatches !== undefined) expect(state).toMatchObject(c.stateMatches);

      if (c.error !== undefined) {
        expect(() => module.diff(args, state, ctx)).toThrow(c.error);
        return;
      }
      const changes = module.diff(args, state, ctx);
      if (c.changes !== undefined) expect(changes.map((ch) => ch.summary)).toEqual(c.changes);
      const diffs = changes.map((ch) => ch.diff ?? '').join('\n');
      if (c.diffContains !== undefined) {
        if (c.diffContains.length === 0) expect(diffs.trim()).toBe('');
        for (const s of c.diffContains) expect(diffs).toContain(s);
      }
      for (const s of c.diffExcludes ?? []) expect(diffs).not.toContain(s);

      const steps = module.apply(args, state, changes, ctx);
      if (c.steps !== undefined) expect(steps.map(stepShape)).toEqual(c.steps);
      if (c.describes !== undefined) expect(steps.map((s) => s.describe)).toEqual(c.describes);
      if (changes.length === 0) expect(steps).toEqual([]);
      expect(module.apply(args, state, [], ctx)).toEqual([]);

      for (const s of secrets) {
        expect(JSON.stringify(changes)).not.toContain(s);
        for (const step of steps) expect(step.describe).not.toContain(s);
      }
    });
  });
}
