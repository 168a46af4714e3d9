/**
 * A tiny local stand-in for the engine, for tests: the facts of several tasks
 * batched into ONE /bin/sh script (each distinct fact once, in its own
 * subshell, followed by a marker with its exit code — the shape the planner
 * uses), planned with the engine's pure evaluate, and steps applied
 * with sh -c and an atomic temp-file-and-rename write. It lets module tests
 * run plan → apply → plan against a temp directory on this machine.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type FactRef, parseOf, type Probed } from '../../src/facts/types.js';
import { evaluate, type FactView, factRefs } from '../../src/modules/contract.js';
import { modules, type ModuleName } from '../../src/modules/index.js';
import { type Change, type ModuleContext, ModuleError, type ProbeOutput, type RunStep } from '../../src/modules/types.js';

export interface LocalTask {
  module: ModuleName;
  args: unknown;
}

export interface Planned {
  task: LocalTask;
  args: unknown;
  /** The task's view of its facts, as a saved plan fingerprints it. */
  probed: Probed<FactView>;
  changes: Change[];
  steps: RunStep[];
  /** The output of the task's facts, joined. */
  stdout: string;
}

const END = '::plumb-test-end';

/** Run every distinct fact of the tasks in one sh script; split stdout per snippet at the markers. */
export function probeAll(refs: FactRef[], env: NodeJS.ProcessEnv = process.env): ProbeOutput[] {
  if (refs.length === 0) return [];
  const script = refs.map((r, i) => `(\n${r.fact.probe(r.params)}\n) </dev/null\necho "${END} ${i} $?"`).join('\n');
  const run = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env });
  if (run.status !== 0) throw new Error(`probe script failed (${run.status}): ${run.stderr}`);
  const outputs: ProbeOutput[] = [];
  let buffer: string[] = [];
  for (const line of run.stdout.split('\n')) {
    const m = new RegExp(`^${END} (\\d+) (\\d+)$`).exec(line);
    if (m) {
      outputs[Number(m[1])] = { stdout: buffer.length ? buffer.join('\n') + '\n' : '', stderr: run.stderr, code: Number(m[2]) };
      buffer = [];
    } else {
      buffer.push(line);
    }
  }
  if (outputs.length !== refs.length) throw new Error(`expected ${refs.length} probe outputs, got ${outputs.length}`);
  return outputs;
}

export function plan(tasks: LocalTask[], ctx: ModuleContext, env?: NodeJS.ProcessEnv): Planned[] {
  const asked = tasks.map((task) => {
    const module = modules[task.module];
    const args = module.schema.parse(task.args);
    return { task, module, args, refs: factRefs(module, args, ctx) };
  });
  const distinct = new Map<string, FactRef>();
  for (const a of asked) for (const r of Object.values(a.refs)) if (!distinct.has(r.key)) distinct.set(r.key, r);
  const list = [...distinct.values()];
  const outputs = probeAll(list, env);
  const read = new Map(list.map((r, i) => [r.key, { value: parseOf(r, outputs[i]), stdout: outputs[i].stdout }]));
  return asked.map(({ task, module, args, refs }) => {
    const facts = Object.fromEntries(Object.entries(refs).map(([name, r]) => [name, read.get(r.key)!.value]));
    const stdout = Object.values(refs)
      .map((r) => read.get(r.key)!.stdout)
      .join('');
    const { probed, changes, steps, error } = evaluate(module, args, facts, ctx);
    // As the engine fails the task; tests of the helper expect the module's message.
    if (error !== undefined) throw new ModuleError(error);
    return { task, args, probed, changes, steps, stdout };
  });
}

export function runStep(step: RunStep, env: NodeJS.ProcessEnv = process.env): void {
  if (step.kind === 'exec') {
    const run = spawnSync('/bin/sh', ['-c', step.command], { encoding: 'utf8', env, input: step.stdin });
    if (run.status !== 0) throw new Error(`step failed (${run.status}): ${step.describe}: ${run.stderr}`);
    return;
  }
  // What the transport does: temp file beside the target, attributes first, then rename.
  const temp = join(dirname(step.path), `.${basename(step.path)}.plumb-tmp`);
  writeFileSync(temp, step.content);
  if (step.mode) chmodSync(temp, parseInt(step.mode, 8));
  if (step.owner !== undefined || step.group !== undefined) chownSync(temp, userId(step.owner), groupId(step.group));
  renameSync(temp, step.path);
}

function userId(name: string | undefined): number {
  if (name === undefined) return -1;
  if (/^\d+$/.test(name)) return Number(name);
  return Number(spawnSync('id', ['-u', '--', name], { encoding: 'utf8' }).stdout.trim());
}

function groupId(name: string | undefined): number {
  if (name === undefined) return -1;
  if (/^\d+$/.test(name)) return Number(name);
  return Number(spawnSync('getent', ['group', name], { encoding: 'utf8' }).stdout.split(':')[2]);
}

/** Apply every planned task that has changes; returns the steps run. */
export function applyAll(planned: Planned[], _ctx: ModuleContext, env?: NodeJS.ProcessEnv): RunStep[] {
  const ran: RunStep[] = [];
  for (const p of planned) {
    if (!p.probed.known || p.changes.length === 0) continue;
    for (const step of p.steps) {
      runStep(step, env);
      ran.push(step);
    }
  }
  return ran;
}
