/**
 * The facts layer: named, reusable readers of host state. A fact is a
 * read-only POSIX sh snippet plus a pure parser of its output, keyed by its
 * parameters, so the planner reads each distinct fact once per host however
 * many tasks need it, in the one batched probe script. Facts know nothing of
 * modules, tasks or secrets; a module says which facts it needs and plans
 * from their values.
 */

/** What one probe snippet produced on the host. */
export interface ProbeOutput {
  stdout: string;
  stderr: string;
  code: number;
}

/** A fact is either known or says why it cannot be (e.g. postconf not installed yet). */
export type Probed<S> = { known: true; state: S } | { known: false; reason: string };

export interface Fact<P, V> {
  /** Stable name, also the directory of its data cases (test/facts/cases/<name>/). */
  name: string;
  /** One line: what the fact reads. */
  summary: string;
  /**
   * Shell snippet that prints the fact; runs under /bin/sh, batched with other snippets in its
   * own subshell with stdin closed. Self-contained POSIX sh, read-only, never prompts.
   */
  probe(params: P): string;
  /** Parse the snippet's output. Pure; the host's output is untrusted. */
  parse(params: P, out: ProbeOutput): Probed<V>;
}

/** One fact with its parameters, as a module asks for it. Equal keys are read once per host. */
export interface FactRef<V = unknown> {
  key: string;
  fact: Fact<any, V>;
  params: unknown;
}

/** Ask for `fact` with `params`. The key is the fact's name and its parameters as JSON, so no two parameter sets collide. */
export function fact<P, V>(def: Fact<P, V>, params: P): FactRef<V> {
  return { key: `${def.name} ${JSON.stringify(params)}`, fact: def, params };
}

/** Parse a requested fact's output; a parser that throws makes the fact unknown rather than the host fail. */
export function parseOf<V>(ref: FactRef<V>, out: ProbeOutput): Probed<V> {
  try {
    return ref.fact.parse(ref.params, out);
  } catch (e) {
    return { known: false, reason: `could not read the current state: ${(e as Error).message}` };
  }
}

/** Debian keeps admin tools in sbin, which a non-root login's PATH lacks. */
export const SBIN_PATH = 'export PATH="$PATH:/usr/sbin:/sbin"';
