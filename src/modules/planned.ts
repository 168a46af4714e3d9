/** Modules that compute each change together with the steps that make it share one diff/apply pair. */
import type { Change, Module, ModuleContext, Step } from './types.js';

export interface Planned {
  change: Change;
  steps: Step[];
}

export function fromPlan<A, S>(plan: (args: A, state: S, ctx: ModuleContext) => Planned[]): Pick<Module<A, S>, 'diff' | 'apply'> {
  return {
    diff: (args, state, ctx) => plan(args, state, ctx).map((p) => p.change),
    // `changes` is what diff returned for this same state: nothing to do means no steps.
    apply: (args, state, changes, ctx) => (changes.length === 0 ? [] : plan(args, state, ctx).flatMap((p) => p.steps)),
  };
}
