/**
 * What `plan` and `apply` share: load and validate everything before any host
 * is contacted, resolve secrets, pick a reporter, run, print, map the outcome
 * to an exit code (DESIGN.md §2).
 */
import { hostScope, type HostScope } from '../config/hostvars.js';
import type { Play } from '../config/model.js';
import { loadProject, parseExtraVars, type Project } from '../config/project.js';
import { run, playHosts, type RunResult } from '../engine/run.js';
import type { HostPlan } from '../engine/types.js';
import { PlainReporter } from '../report/plain.js';
import { planText } from '../report/plan-text.js';
import { recapTable } from '../report/recap.js';
import { TerminalReporter } from '../report/terminal.js';
import type { Reporter } from '../report/types.js';
import { Redactor } from '../template/redactor.js';
import type { TransportOptions } from '../transport/index.js';
import { promptHidden } from './prompt.js';

export interface RunCommandOptions {
  playbook: string;
  inventory: string;
  limit?: string;
  tags?: string[];
  extraVars?: string[];
  secretsFile?: string;
  format?: 'text' | 'markdown' | 'json';
  forks?: number;
  failFast?: boolean;
  knownHosts?: string[];
  acceptNewHostKeys?: boolean;
  sshConfig?: string;
  askBecomePass?: boolean;
  connectTimeoutS?: number;
  taskTimeoutS?: number;
  diff?: boolean;
}

export const EXIT = { ok: 0, error: 1, changes: 2, unreachable: 4, interrupted: 130 } as const;

/** Secrets of every (play, host) are resolved before anything is contacted, so a missing one stops the run early. */
export function resolveScopes(project: Project, limit: string | undefined, redactor: Redactor, env: NodeJS.ProcessEnv) {
  const scopes = new Map<string, HostScope>();
  const errors: string[] = [];
  for (const v of Object.values(project.secretValuesFromFile)) redactor.add(String(v));
  project.playbook.plays.forEach((play, i) => {
    for (const name of playHosts(project, play, limit)) {
      try {
        const scope = hostScope(project, play, project.inventory.hosts.get(name)!, env);
        for (const key of Object.keys(play.secrets)) if (scope.vars[key] !== undefined) redactor.add(String(scope.vars[key]));
        scopes.set(`${i}\0${name}`, scope);
      } catch (e) {
        errors.push(`${name}: ${(e as Error).message}`);
      }
    }
  });
  if (errors.length) throw new Error([...new Set(errors)].map((e) => redactor.redact(e)).join('\n'));
  return (play: Play, host: string) => scopes.get(`${project.playbook.plays.indexOf(play)}\0${host}`);
}

export function pickReporter(write: (line: string) => void): Reporter {
  const interactive = process.stderr.isTTY && !process.env.CI && process.env.TERM !== 'dumb';
  return interactive ? new TerminalReporter() : new PlainReporter(write);
}

export function exitCode(mode: 'plan' | 'apply', result: RunResult): number {
  if (result.interrupted) return EXIT.interrupted;
  const rows = result.results;
  if (rows.some((r) => r.status === 'failed' || r.status === 'refused')) return EXIT.error;
  if (rows.some((r) => r.status === 'unreachable')) return EXIT.unreachable;
  if (mode === 'plan' && result.plans.some((p) => p.tasks.some((t) => t.outcome === 'change' || t.outcome === 'may-change') || p.handlers.length)) return EXIT.changes;
  return EXIT.ok;
}

export interface Prepared {
  project: Project;
  redactor: Redactor;
  transport: TransportOptions;
  scopeFor: (play: Play, host: string) => HostScope | undefined;
}

export async function prepareRun(o: RunCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<Prepared> {
  const project = await loadProject({
    playbookPath: o.playbook,
    inventoryPath: o.inventory,
    extraVars: parseExtraVars(o.extraVars ?? []),
    secretsFile: o.secretsFile,
  });
  const redactor = new Redactor();
  const scopeFor = resolveScopes(project, o.limit, redactor, env);
  let asked: Promise<string> | undefined;
  const transport: TransportOptions = {
    knownHostsFiles: o.knownHosts?.length ? o.knownHosts : undefined,
    acceptNewHostKeys: o.acceptNewHostKeys,
    sshConfigFile: o.sshConfig,
    connectTimeoutMs: o.connectTimeoutS !== undefined ? o.connectTimeoutS * 1000 : undefined,
    commandTimeoutMs: o.taskTimeoutS !== undefined ? o.taskTimeoutS * 1000 : undefined,
    becomePassword: async (host) => {
      const name = host.connection.become_password_env;
      if (name) {
        const value = env[name];
        if (value === undefined) throw new Error(`become_password_env names ${name}, which is not set`);
        redactor.add(value);
        return value;
      }
      if (!o.askBecomePass) return undefined;
      asked ??= promptHidden('BECOME password: ').then((v) => (redactor.add(v), v));
      return asked;
    },
    passphrase: (path) => promptHidden(`Passphrase for ${path}: `),
  };
  return { project, redactor, transport, scopeFor };
}

export async function runCommand(mode: 'plan' | 'apply', o: RunCommandOptions, extra: { gate?: (p: HostPlan) => string | undefined } = {}): Promise<number> {
  const prepared = await prepareRun(o);
  const { project, redactor } = prepared;
  const err = (line: string) => process.stderr.write(redactor.redact(line) + '\n');
  const out = (text: string) => process.stdout.write(redactor.redact(text));
  const reporter = pickReporter(err);

  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    controller.abort();
    err('interrupted: no new task starts; waiting for running commands (Ctrl-C again to quit now)');
  };
  process.on('SIGINT', onSigint);
  let result: RunResult;
  try {
    result = await run(project, {
      mode,
      forks: o.forks ?? 50,
      failFast: o.failFast,
      limit: o.limit,
      tags: o.tags,
      taskTimeoutMs: o.taskTimeoutS !== undefined ? o.taskTimeoutS * 1000 : undefined,
      transport: prepared.transport,
      reporter,
      signal: controller.signal,
      scopeFor: prepared.scopeFor,
      gate: extra.gate,
    });
  } finally {
    process.off('SIGINT', onSigint);
    await reporter.close();
  }
  if (mode === 'plan') {
    out(planText(result.plans, { diffs: true }));
    err(recapTable(result.results, 'plan').trimEnd());
  } else {
    if (o.diff) out(planText(result.plans, { diffs: true }));
    out(recapTable(result.results, 'apply'));
  }
  return exitCode(mode, result);
}
