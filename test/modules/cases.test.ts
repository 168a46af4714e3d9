/**
 * Table-driven module tests, pyinfra style: every file under
 * test/modules/cases/<module>/ is one case — arguments and the output of the
 * facts the module asks for in, fact values, change summaries and step
 * commands out. Adding a case is adding a file. Every case also checks the
 * invariants that hold for all modules: each fact's snippet is valid sh, the
 * facts survive JSON, and no secret reaches a Change, a step's description or
 * an unknown reason.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseOf } from '../../src/facts/types.js';
import { evaluate, factRefs } from '../../src/modules/contract.js';
import { modules, type ModuleName } from '../../src/modules/index.js';
import type { Step } from '../../src/modules/types.js';
import { fakeContext, type FakeContextOptions } from './context.js';

interface Output {
  stdout: string;
  stderr?: string;
  code?: number;
}

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
  /** Substrings the facts' snippets, joined, must (not) contain. */
  probeContains?: string[];
  probeExcludes?: string[];
  /** The output of the one fact the module asks for. */
  output?: Output;
  /** The output of each fact the module asks for, by the module's name for it. */
  outputs?: Record<string, string | Output>;
  /** The fact values (of a module that reads one fact: that fact's value). */
  state?: unknown;
  /** A subset of the state (toMatchObject). */
  stateMatches?: Record<string, unknown>;
  /** The fact fields the module marks as derived from secrets (default: none). */
  secretFields?: string[];
  unknown?: string;
  changes?: string[];
  /** Substrings of the joined unified diffs; `[]` means: no change may carry a diff. */
  diffContains?: string[];
  /** Substrings no diff may contain. */
  diffExcludes?: string[];
  error?: string;
  steps?: Array<string | StepExpectation>;
  describes?: string[];
  /** A fact module (setup, service_facts, package_facts): the facts it sets for the tasks after it. */
  sets?: unknown;
  /** The names of the facts it sets, sorted. */
  setsKeys?: string[];
  /** A module that registers what it read (stat): what `register:` adds (toMatchObject). */
  registers?: Record<string, unknown>;
  /** Issue 15: what the task prints (debug, assert), redacted by the engine as it is here. */
  message?: string;
  /** Issue 15: the task prints nothing (assert with quiet). */
  noMessage?: boolean;
  /** Issue 15: every change is a wait (pause, wait_for): apply runs it, the task stays ok. */
  waits?: boolean;
}

const root = join(import.meta.dirname, 'cases');

function stepShape(step: Exclude<Step, { kind: 'batch' }>): string | StepExpectation {
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
    const files = readdirSync(join(root, moduleName))
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
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
      const refs = factRefs(module, args, ctx);
      const names = Object.keys(refs);
      const outputs = c.outputs ?? (c.output !== undefined && names.length === 1 ? { [names[0]]: c.output } : {});
      if (c.output === undefined && c.outputs === undefined) throw new Error("a case needs `output` or `outputs` (the facts' output) unless it has `argsError`");
      if (c.outputs !== undefined) expect(Object.keys(c.outputs).sort(), 'outputs are given for exactly the facts the module asks for').toEqual([...names].sort());
      else if (names.length > 1) throw new Error(`the module asks for ${names.join(', ')}: give \`outputs\` by fact`);

      const snippets = Object.values(refs).map((r) => r.fact.probe(r.params));
      for (const snippet of snippets) execFileSync('/bin/sh', ['-n', '-c', snippet]); // throws on a syntax error
      for (const s of c.probeContains ?? []) expect(snippets.join('\n')).toContain(s);
      for (const s of c.probeExcludes ?? []) expect(snippets.join('\n')).not.toContain(s);

      const facts = Object.fromEntries(
        names.map((n) => {
          const o = outputs[n];
          const out = typeof o === 'string' ? { stdout: o, stderr: '', code: 0 } : { stdout: o.stdout, stderr: o.stderr ?? '', code: o.code ?? 0 };
          return [n, parseOf(refs[n], out)];
        }),
      );
      const result = evaluate(module, args, facts, ctx);
      const probed = result.probed;
      if (c.unknown !== undefined) {
        expect(probed.known).toBe(false);
        if (!probed.known) {
          expect(probed.reason).toContain(c.unknown);
          for (const s of secrets) expect(probed.reason).not.toContain(s);
        }
        return;
      }
      if (!probed.known) throw new Error(`expected a known state, got unknown: ${probed.reason}`);
      const { secretFields, ...values } = probed.state;
      expect(JSON.parse(JSON.stringify(values))).toEqual(values);
      const state = names.length === 1 ? values[names[0]] : values;
      if (c.state !== undefined) expect(state).toEqual(c.state);
      if (c.stateMatches !== undefined) expect(state).toMatchObject(c.stateMatches);
      expect(secretFields ?? []).toEqual(c.secretFields ?? []);

      const registered = () => {
        expect(module.registers, `${moduleName} registers nothing`).toBeDefined();
        const r = (module.registers as (a: unknown, f: unknown, x: unknown) => Record<string, unknown>)(args, facts, ctx);
        expect(JSON.parse(JSON.stringify(r))).toEqual(r);
        return r;
      };
      if (c.error !== undefined) {
        expect(result.error).toContain(c.error);
        for (const s of secrets) expect(result.error).not.toContain(s);
        // Issue 15: a control module that fails registers its failure (assert's assertion, evaluated_to).
        if (c.registers !== undefined) expect(registered()).toMatchObject(c.registers);
        return;
      }
      expect(result.error).toBeUndefined();
      const changes = result.changes;
      if (c.changes !== undefined) expect(changes.map((ch) => ch.summary)).toEqual(c.changes);
      const diffs = changes.map((ch) => ch.diff ?? '').join('\n');
      if (c.diffContains !== undefined) {
        if (c.diffContains.length === 0) expect(diffs.trim()).toBe('');
        for (const s of c.diffContains) expect(diffs).toContain(s);
      }
      for (const s of c.diffExcludes ?? []) expect(diffs).not.toContain(s);

      const steps = result.steps;
      if (c.steps !== undefined) expect(steps.map(stepShape)).toEqual(c.steps);
      if (c.describes !== undefined) expect(steps.map((s) => s.describe)).toEqual(c.describes);
      if (c.sets !== undefined || c.setsKeys !== undefined) {
        expect(module.setsFacts, `${moduleName} sets no facts`).toBeDefined();
        const set = (module.setsFacts as (a: unknown, f: unknown) => Record<string, unknown>)(args, facts);
        if (c.sets !== undefined) expect(set).toEqual(c.sets);
        if (c.setsKeys !== undefined) expect(Object.keys(set).sort()).toEqual(c.setsKeys);
        // A fact module is read-only: it never plans a change.
        expect(changes).toEqual([]);
      }
      if (c.registers !== undefined) expect(registered()).toMatchObject(c.registers);
      const message = (module.message as ((a: unknown, f: unknown, x: unknown) => string | undefined) | undefined)?.(args, facts, ctx);
      if (c.message !== undefined) expect(message === undefined ? undefined : ctx.redact(message)).toBe(c.message);
      if (c.noMessage) expect(message).toBeUndefined();
      if (c.waits !== undefined) expect(changes.length > 0 && changes.every((ch) => ch.wait === true)).toBe(c.waits);
      for (const s of secrets) if (message !== undefined) expect(ctx.redact(message)).not.toContain(s);
      if (changes.length === 0) expect(steps).toEqual([]);
      else expect(steps.length, 'a change is made by some step').toBeGreaterThan(0);

      for (const s of secrets) {
        expect(JSON.stringify(changes)).not.toContain(s);
        for (const step of steps) expect(step.describe).not.toContain(s);
      }
    });
  });
}
