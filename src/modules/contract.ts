/**
 * What the engine (and the module tests) do with a module, in one pure place:
 * ask for its facts, then turn their values into changes and the steps that
 * make them, with a per-task view of the facts for saved-plan fingerprints.
 */
import type { Probed } from '../facts/types.js';
import { type Change, type FactRef, type Module, type ModuleContext, ModuleError, type RunStep, type Step, UnknownState } from './types.js';

/** The facts one task reads, with its module's names for them. */
export function factRefs(module: Module, args: unknown, ctx: ModuleContext): Record<string, FactRef> {
  return module.facts(args, ctx) as Record<string, FactRef>;
}

/** A task's facts as a saved plan fingerprints them: each value (or why it is unknown), and which fields derive from secrets. */
export type FactView = Record<string, unknown> & { secretFields?: string[] };

export interface Evaluated {
  /** Known when the module could plan; unknown (redacted reason) when a fact it needs is not. */
  probed: Probed<FactView>;
  changes: Change[];
  /** The steps that make exactly `changes`; [] when there are none. */
  steps: RunStep[];
  /** Why the task cannot be carried out as written on this host (the module's ModuleError, redacted). */
  error?: string;
}

/** Plan one task from its fact values. */
export function evaluate(module: Module, args: unknown, facts: Record<string, Probed<unknown>>, ctx: ModuleContext): Evaluated {
  const view: FactView = Object.fromEntries(Object.entries(facts).map(([name, f]) => [name, f.known ? f.state : { unknown: f.reason }]));
  const known = { known: true as const, state: view };
  let planned;
  try {
    // Marked first, so a task that fails on this host is fingerprinted like one that plans.
    const secret = module.secretFacts?.(args, facts, ctx) ?? [];
    if (secret.length > 0) view.secretFields = secret;
    planned = module.plan(args, facts, ctx);
  } catch (e) {
    if (e instanceof UnknownState) return { probed: { known: false, reason: ctx.redact(e.reason) }, changes: [], steps: [] };
    if (e instanceof ModuleError) return { probed: known, changes: [], steps: [], error: ctx.redact(e.message) };
    throw e;
  }
  const changes = planned.map((p) => p.change);
  return {
    probed: known,
    changes,
    steps:
      changes.length === 0
        ? []
        : stepsOf(
            module,
            args,
            planned.flatMap((p) => p.steps),
            ctx,
          ),
  };
}

function stepsOf(module: Module, args: unknown, steps: Step[], ctx: ModuleContext): RunStep[] {
  const merged = module.merge ? module.merge(steps, args, ctx) : steps;
  const left = merged.find((s) => s.kind === 'batch');
  if (left) throw new Error(`module ${module.name}: batch step "${left.describe}" was not merged`);
  return merged as RunStep[];
}

/** The batch items of `group`, in order. */
export function batchItems(steps: Step[], group: string): string[] {
  return steps.flatMap((s) => (s.kind === 'batch' && s.group === group ? [s.item] : []));
}
