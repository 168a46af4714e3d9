/**
 * The guards fact of command and shell: whether `creates`/`removes` paths
 * exist and the exit code of `unless`, evaluated in `chdir`.
 */
import { quote } from '../quote.js';
import { fact, type Fact, type FactRef } from './types.js';

export interface Guards {
  creates?: string;
  removes?: string;
  /** A shell command; the caller guarantees it is the playbook's literal text. */
  unless?: string;
  chdir?: string;
}

/** What the guards found. A missing field means that guard was not given. */
export interface GuardState {
  creates?: boolean;
  removes?: boolean;
  /** Exit code of the `unless` command. */
  unless?: number;
}

/**
 * A glob as sh words that expand only as a pathname pattern: `*`, `?` and simple `[...]`
 * classes stay bare, every other run of characters is quoted. Undefined when there is no glob.
 */
export function globWords(pattern: string): string | undefined {
  const parts = pattern.split(/(\*|\?|\[!?[A-Za-z0-9_.-]+\])/);
  if (parts.length === 1) return undefined;
  return parts.map((part, i) => (i % 2 === 1 ? part : part === '' ? '' : quote(part))).join('');
}

/** `NAME 1` when `path` exists (as Ansible, a glob in it counts when anything matches), else `NAME 0`. */
function existsCheck(name: string, path: string): string {
  const glob = globWords(path);
  if (glob === undefined) return `if [ -e ${quote(path)} ]; then echo '${name} 1'; else echo '${name} 0'; fi`;
  return `f=0; for m in ${glob}; do if [ -e "$m" ] || [ -L "$m" ]; then f=1; break; fi; done; echo "${name} $f"`;
}

/** Prints `chdir missing`, or one line per guard: `creates 0|1`, `removes 0|1`, `unless RC`. */
function guardProbe(g: Guards): string {
  const checks: string[] = [];
  if (g.creates !== undefined) checks.push(existsCheck('creates', g.creates));
  if (g.removes !== undefined) checks.push(existsCheck('removes', g.removes));
  // Its own sh, so a syntax error in `unless` cannot break the batched probe script.
  if (g.unless !== undefined) checks.push(`/bin/sh -c -- ${quote(g.unless)} </dev/null >/dev/null 2>&1; echo "unless $?"`);
  const body = checks.join('\n');
  if (g.chdir === undefined) return body;
  return `if cd -- ${quote(g.chdir)} 2>/dev/null; then\n${body}\nelse echo 'chdir missing'; fi`;
}

export const commandGuards: Fact<Guards, GuardState> = {
  name: 'command-guards',
  summary: 'whether creates/removes paths exist and the exit code of unless, in chdir',
  probe: guardProbe,
  parse(g, { stdout }) {
    const state: GuardState = {};
    for (const line of stdout.split('\n')) {
      if (line === 'chdir missing') return { known: false, reason: `chdir ${g.chdir} does not exist (yet)` };
      const m = /^(creates|removes|unless) (\d+)$/.exec(line);
      if (!m) continue;
      if (m[1] === 'unless') state.unless = Number(m[2]);
      else state[m[1] as 'creates' | 'removes'] = m[2] === '1';
    }
    const missing = (['creates', 'removes', 'unless'] as const).filter((k) => g[k] !== undefined && state[k] === undefined);
    if (missing.length > 0) return { known: false, reason: `guard ${missing.join(', ')} was not evaluated (probe output incomplete)` };
    return { known: true, state };
  },
};

/** Only the guards themselves are the fact's parameters (never the command), so equal guards are read once. */
export function guardsOf(g: Guards): FactRef<GuardState> {
  const params: Guards = {};
  for (const k of ['creates', 'removes', 'unless', 'chdir'] as const) if (g[k] !== undefined) params[k] = g[k];
  return fact(commandGuards, params);
}
