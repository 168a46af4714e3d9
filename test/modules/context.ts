/**
 * A ModuleContext for tests: a redactor that knows a list of secret values
 * (longest first, so a secret containing another is replaced whole), local
 * files from a map, and `{{ name }}` rendering from a map of variables.
 */
import { parseOf, type Probed } from '../../src/facts/types.js';
import { evaluate, type Evaluated, factRefs } from '../../src/modules/contract.js';
import { type Module, type ModuleContext, ModuleError } from '../../src/modules/types.js';

export interface FakeContextOptions {
  secrets?: string[];
  /** Local files by path (copy src, template src). */
  files?: Record<string, string | Buffer>;
  vars?: Record<string, unknown>;
  /** Modes of local files (copy `mode: preserve`); 0644 when not given. */
  modes?: Record<string, string>;
  /** Issue 15: what the engine evaluated the module's conditions to (assert's `that`); a string is the evaluation's error. */
  conditions?: Record<string, boolean | string>;
  /** Issue 15: the values of the module's variable expressions (debug's `var`); absent: not defined. */
  values?: Record<string, unknown>;
}

export function fakeContext(options: FakeContextOptions = {}): ModuleContext & { readCount: number } {
  const secrets = [...(options.secrets ?? [])].filter((s) => s !== '').sort((a, b) => b.length - a.length);
  const files = options.files ?? {};
  const localFiles = files;
  const vars = options.vars ?? {};
  const ctx = {
    readCount: 0,
    redact(text: string): string {
      let out = text;
      for (const s of secrets) out = out.split(s).join('***');
      return out;
    },
    hasSecret(text: string): boolean {
      return secrets.some((s) => text.includes(s));
    },
    localMode(path: string): string {
      return options.modes?.[path] ?? '0644';
    },
    /** A directory is any path some file of the map is under; its tree is derived from the map. */
    localTree(path: string): { directories: string[]; files: string[] } | undefined {
      const prefix = `${path.replace(/\/+$/, '')}/`;
      const files = Object.keys(localFiles)
        .filter((f) => f.startsWith(prefix))
        .map((f) => f.slice(prefix.length))
        .sort();
      if (files.length === 0) return undefined;
      const directories = [
        ...new Set(
          files.flatMap((f) =>
            f
              .split('/')
              .slice(0, -1)
              .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
          ),
        ),
      ].sort();
      return { directories, files };
    },
    readLocal(path: string): Buffer {
      ctx.readCount++;
      const f = files[path];
      if (f === undefined) throw new Error(`no such local file: ${path}`);
      return Buffer.isBuffer(f) ? f : Buffer.from(f, 'utf8');
    },
    render(text: string): string {
      return text.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => {
        if (!(name in vars)) throw new Error(`undefined variable ${name}`);
        return String(vars[name]);
      });
    },
    renderTemplate(src: string): string {
      return ctx.render(ctx.readLocal(src).toString('utf8'));
    },
    condition(expr: string): boolean {
      const answer = options.conditions?.[expr];
      if (answer === undefined) throw new Error(`the case gives no value for the condition ${expr}`);
      if (typeof answer === 'string') throw new ModuleError(answer);
      return answer;
    },
    value(expr: string): { defined: true; value: unknown } | { defined: false } {
      const values = options.values ?? {};
      return Object.hasOwn(values, expr) ? { defined: true, value: values[expr] } : { defined: false };
    },
  };
  return ctx;
}

/** Plan a task from fact values (all known) or, for a module reading one fact, from that fact's probe output. */
export function planFrom(module: Module, rawArgs: unknown, facts: Record<string, unknown> | string, ctx: ModuleContext = fakeContext()): Evaluated {
  const args = module.schema.parse(rawArgs);
  const refs = factRefs(module, args, ctx);
  const values: Record<string, Probed<unknown>> = typeof facts === 'string'
    ? Object.fromEntries(Object.entries(refs).map(([n, r]) => [n, parseOf(r, { stdout: facts, stderr: '', code: 0 })]))
    : Object.fromEntries(Object.keys(refs).map((n) => [n, { known: true as const, state: facts[n] }]));
  return evaluate(module, args, values, ctx);
}
