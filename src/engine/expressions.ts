/**
 * Issue 15: the bare Jinja expressions of a control module's arguments (assert's `that`, debug's
 * `var`), evaluated when the task's arguments are rendered, in the same scope: the task's
 * variables, and in a play with register the values registered before it. What they read decides,
 * as for templated arguments, whether the result is secret (its text joins the redactor) and, in the
 * dynamic walk, whether it is known only after apply. The module reads the answers through
 * `ctx.condition` / `ctx.value`.
 */
import type { HostScope } from '../config/hostvars.js';
import type { Task } from '../config/model.js';
import { hideDerived, refusal, secretsRead } from '../config/secrecy.js';
import { ModuleError, type Module, type ModuleContext } from '../modules/types.js';
import { TemplateError } from '../template/errors.js';

type ConditionAnswer = { ok: true; holds: boolean } | { ok: false; error: string };
type ValueAnswer = { defined: true; value: unknown } | { defined: false } | { error: string };

export interface EvaluatedExpressions {
  conditions: Record<string, ConditionAnswer>;
  values: Record<string, ValueAnswer>;
  /** Every variable the expressions read (the dynamic walk's "depends on"). */
  reads: string[];
  /** Values of the secret variables they read (saved-plan fingerprints; never printed). */
  secretValues: string[];
}

/** Ansible's message for an undefined name or attribute; anything else is the task's failure. */
const isUndefined = (e: TemplateError) => /\bundefined\b|has no attribute|no such (?:key|element)|not defined/i.test(e.detail);

function message(scope: HostScope, e: unknown): string {
  return scope.redactor.redact(e instanceof TemplateError ? e.detail : e instanceof Error ? e.message : String(e));
}

/** Evaluate the module's expressions in `scope`; undefined when the module declares none. */
export function evaluateExpressions(module: Module, args: unknown, scope: HostScope, task: Task): EvaluatedExpressions | undefined {
  const exprs = module.expressions?.(args);
  if (!exprs) return undefined;
  const out: EvaluatedExpressions = { conditions: {}, values: {}, reads: [], secretValues: [] };
  const reads = new Set<string>();
  const secretReads = new Set<string>();
  for (const expr of exprs.conditions ?? []) {
    const t = scope.scope.track((): ConditionAnswer => {
      try {
        return { ok: true, holds: scope.condition(expr, task.pos) };
      } catch (e) {
        return { ok: false, error: `The conditional check '${expr}' failed: ${message(scope, e)}` };
      }
    });
    t.reads.forEach((r) => reads.add(r));
    secretsRead(t.reads, scope.secretNames).forEach((n) => secretReads.add(n));
    out.conditions[expr] = t.value;
  }
  for (const expr of exprs.values ?? []) {
    const t = scope.scope.track((): ValueAnswer => {
      try {
        return { defined: true, value: scope.render(`{{ ${expr} }}`, task.pos) };
      } catch (e) {
        if (e instanceof TemplateError && isUndefined(e)) return { defined: false };
        return { error: message(scope, e) };
      }
    });
    t.reads.forEach((r) => reads.add(r));
    const secrets = secretsRead(t.reads, scope.secretNames);
    secrets.forEach((n) => secretReads.add(n));
    out.values[expr] = t.value;
    if (secrets.length && 'value' in t.value) {
      // Computed from a secret: a secret too (its text joins the redactor), or refused, as an argument would be.
      const why = hideDerived(t.value.value, scope.redactor);
      if (why) out.values[expr] = { error: `${expr}: ${refusal(secrets, why)}` };
    }
  }
  out.reads = [...reads];
  out.secretValues = [...secretReads].map((n) => String(scope.vars[n]));
  return out;
}

/** `ctx` answering `condition` and `value` from what was evaluated (an expression not declared: `ctx`'s own answer). */
export function withExpressions(ctx: ModuleContext, evaluated: EvaluatedExpressions | undefined): ModuleContext {
  if (!evaluated) return ctx;
  return {
    ...ctx,
    condition(expr) {
      const a = evaluated.conditions[expr];
      if (!a) return ctx.condition(expr);
      if (!a.ok) throw new ModuleError(a.error);
      return a.holds;
    },
    value(expr) {
      const a = evaluated.values[expr];
      if (!a) return ctx.value(expr);
      if ('error' in a) throw new ModuleError(a.error);
      return a;
    },
  };
}

/** The context's own answers: straight from the scope (a module test, or an expression not declared). */
export function scopeExpressions(scope: HostScope): Pick<ModuleContext, 'condition' | 'value'> {
  return {
    condition(expr) {
      try {
        return scope.condition(expr);
      } catch (e) {
        throw new ModuleError(`The conditional check '${expr}' failed: ${message(scope, e)}`);
      }
    },
    value(expr) {
      try {
        return { defined: true, value: scope.render(`{{ ${expr} }}`) };
      } catch (e) {
        if (e instanceof TemplateError && isUndefined(e)) return { defined: false };
        throw new ModuleError(message(scope, e));
      }
    },
  };
}
