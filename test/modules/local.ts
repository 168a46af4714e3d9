/**
 * A tiny local stand-in for the engine, for tests: probes of several tasks
 * batched into ONE /bin/sh script (each in its own subshell, followed by a
 * marker with its exit code — the shape the planner uses), and steps applied
 * with sh -c and an atomic temp-file-and-rename write. It lets module tests
 * run plan → apply → plan against a temp directory on this machine.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { modules, type ModuleName } from '../../src/modules/index.js';
import type { Change, ModuleContext, ProbeOutput, Step } from '../../src/modules/types.js';

export interface LocalTask {
  module: ModuleName;
  args: unknown;
}

export interface Planned {
  task: LocalTask;
  args: unknown;
  probed: ReturnType<(typeof modules)[ModuleName]['parse']>;
  changes: Change[];
  stdout: string;
}

const END = '::plumb-test-end';

/** Run every task's probe in one sh script; split stdout per snippet at the markers. */
export function probeAll(tasks: LocalTask[], ctx: ModuleContext, env: NodeJS.ProcessEnv = process.env): ProbeOutput[] {
  const parsedArgs = tasks.map((t) => modules[t.module].schema.parse(t.args));
  const script = tasks
    .map((t, i) => `(\n${modules[t.module].probe(parsedArgs[i], ctx)}\n) </dev/null\necho "${END} ${i} $?"`)
    .join('\n');
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
  if (outputs.length !== tasks.length) throw new Error(`expected ${tasks.length} probe outputs, got ${outputs.length}`);
  return outputs;
}

export function plan(tasks: LocalTask[], ctx: ModuleContext, env?: NodeJS.ProcessEnv): Planned[] {
  const outputs = probeAll(tasks, ctx, env);
  return tasks.map((task, i) => {
    const module = modules[task.module];
    const args = module.schema.parse(task.args);
    const probed = module.parse(args, outputs[i], ctx);
    const changes = probed.known ? module.diff(args, probed.state, ctx) : [];
    return { task, args, probed, changes, stdout: outputs[i].stdout };
  });
}

export function runStep(step: Step, env: NodeJS.ProcessEnv = process.env): void {
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
export function applyAll(planned: Planned[], ctx: ModuleContext, env?: NodeJS.ProcessEnv): Step[] {
  const ran: Step[] = [];
  for (const p of planned) {
    if (!p.probed.known || p.changes.length === 0) continue;
    const steps = modules[p.task.module].apply(p.args, p.probed.state, p.changes, ctx);
    for (const step of steps) {
      runStep(step, env);
      ran.push(step);
    }
  }
  return ran;
}
