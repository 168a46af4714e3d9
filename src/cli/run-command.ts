/**
 * What `plan` and `apply` share: load and validate everything before any host
 * is contacted, resolve secrets, pick a reporter, run, print, map the outcome
 * to an exit code. Everything it prints goes through `io`.
 */
import { hostScope, type HostScope } from '../config/hostvars.js';
import { countsAsChange } from '../engine/blocks.js';
import { checkRendering } from '../config/check.js';
import { formatDiagnostics, sortDiagnostics, ValidationFailed } from '../source/diagnostics.js';
import type { Play } from '../config/model.js';
import { matchHosts } from '../inventory/patterns.js';
import { loadProject, parseExtraVars, type Project } from '../config/project.js';
import type { LoadedCfg } from '../config/ansible-cfg.js';
import { run, playHosts, type RunResult } from '../engine/run.js';
import { selectedByTags, type TagFilter } from '../engine/prepare.js';
import { writeFileSync } from 'node:fs';
import { Fingerprinter, newFingerprintKey } from '../engine/fingerprint.js';
import { describeRunning, RunningCommands } from '../engine/running.js';
import { checkPlanFiles, readSavedPlan, SavedPlanError, staleReason } from '../engine/saved-plan.js';
import { exactHostsPattern, shardLabel, type Shard } from '../engine/shard.js';
import { checkHostKeys, shardHosts, withShard } from '../engine/shard-plans.js';
import { buildRecap, recapJson } from '../report/recap-document.js';
import type { HostPlan, Reporter } from '../engine/types.js';
import { buildPlanDocument, planJson } from '../report/plan-document.js';
import { escapeControl } from '../report/escape.js';
import { planMarkdown } from '../report/plan-markdown.js';
import { MANY_HOSTS, PlainReporter } from '../report/plain.js';
import { changeSummary } from '../report/change-summary.js';
import { planText } from '../report/plan-text.js';
import { recapTable } from '../report/recap.js';
import { Redactor } from '../redactor.js';
import type { TransportOptions } from '../transport/index.js';
import { EXIT, PlumbError } from '../errors.js';
import type { Io } from './command.js';
import type { CommonOptions } from './options.js';
import { noTerminal } from './prompt.js';
import { vaultContext, type VaultOptions } from './vault.js';
import { startAtTask } from './list.js';
import { vaultExtraVars } from './extra-vars-plan.js';

export interface RunCommandOptions {
  playbook: string;
  inventory: string;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  extraVars?: string[];
  /** Already parsed extra variables (a saved plan's); merged over `extraVars`. */
  extraVarsObject?: Record<string, unknown>;
  secretsFile?: string;
  vault?: VaultOptions;
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
  rolesPath?: string[];
  startAtTask?: string;
  /** --shard I/N: only this shard's hosts, after --limit (engine/shard.ts). */
  shard?: Shard;
  /** apply: where --out writes the JSON recap. */
  out?: string;
  /** The ansible.cfg in effect (remote_user, private_key_file defaults; its warnings). */
  ansibleCfg?: LoadedCfg;
}

export function toRunOptions(playbook: string, o: CommonOptions, ansibleCfg?: LoadedCfg): RunCommandOptions {
  return {
    ansibleCfg,
    playbook,
    inventory: o.inventory ?? '',
    limit: o.limit,
    tags: o.tags,
    skipTags: o.skipTags,
    extraVars: o.extraVars,
    secretsFile: o.secrets,
    vault: o,
    format: o.format,
    forks: o.forks,
    failFast: o.failFast,
    knownHosts: o.knownHosts,
    acceptNewHostKeys: o.acceptNewHostKeys,
    sshConfig: o.sshConfig,
    askBecomePass: o.askBecomePass,
    connectTimeoutS: o.connectTimeoutS,
    taskTimeoutS: o.taskTimeoutS,
    diff: o.diff,
    rolesPath: o.rolesPath,
    startAtTask: o.startAtTask,
    shard: o.shard,
    out: o.out,
  };
}

/** Secrets of every (play, host) are resolved before anything is contacted, so a missing one stops the run early. */
function resolveScopes(project: Project, limit: string | undefined, redactor: Redactor, secrets: Set<string>, env: NodeJS.ProcessEnv, filter: TagFilter) {
  const scopes = new Map<string, HostScope>();
  const errors: string[] = [];
  const addSecret = (v: string) => {
    redactor.add(v);
    secrets.add(v);
  };
  for (const v of Object.values(project.secretValuesFromFile)) addSecret(String(v));
  for (const v of project.vaultValues) addSecret(v);
  project.playbook.plays.forEach((play, i) => {
    for (const name of playHosts(project, play, limit)) {
      try {
        const scope = hostScope(project, play, project.inventory.hosts.get(name)!, env, { selected: (tags) => selectedByTags({ tags }, filter) });
        for (const key of Object.keys(play.secrets)) if (scope.vars[key] !== undefined) addSecret(String(scope.vars[key]));
        // Values the host's tasks compute from secrets are hidden in everything the run prints.
        scope.redactor.forwardTo(redactor);
        scopes.set(`${i}\0${name}`, scope);
      } catch (e) {
        errors.push(`${name}: ${(e as Error).message}`);
      }
    }
  });
  if (errors.length) throw new PlumbError([...new Set(errors)].map((e) => redactor.redact(e)).join('\n'));
  return (play: Play, host: string) => scopes.get(`${project.playbook.plays.indexOf(play)}\0${host}`);
}

function interactive(io: Io): boolean {
  return Boolean(io.stderrIsTTY && !io.env.CI && io.env.TERM !== 'dumb');
}

async function pickReporter(mode: 'plan' | 'apply', io: Io, write: (line: string) => void): Promise<Reporter> {
  // listr2 loads only for a terminal: CI logs and pipes never pay for it.
  if (interactive(io)) return new (await import('../report/terminal.js')).TerminalReporter(write);
  return new PlainReporter(mode, write);
}

function exitCode(mode: 'plan' | 'apply', result: RunResult): number {
  if (result.interrupted) return EXIT.interrupted;
  const rows = result.results;
  if (rows.some((r) => r.status === 'failed' || r.status === 'refused')) return EXIT.error;
  if (result.plans.some((p) => p.tasks.some((t) => t.outcome === 'error'))) return EXIT.error;
  if (rows.some((r) => r.status === 'unreachable')) return EXIT.unreachable;
  if (mode === 'plan' && result.plans.some((p) => p.tasks.some(countsAsChange) || p.handlers.length)) return EXIT.changes;
  return EXIT.ok;
}

interface Prepared {
  project: Project;
  /** The --limit the run uses: the user's, narrowed to the shard's hosts with --shard. */
  limit: string | undefined;
  /** With --shard: every host the run reaches before sharding (recorded in the plan for plumb merge). */
  universe?: string[];
  redactor: Redactor;
  /** Every secret value, for the keyed fingerprints of saved plans; never printed. */
  secrets: Set<string>;
  transport: TransportOptions;
  scopeFor: (play: Play, host: string) => HostScope | undefined;
}

/** "the play matches no host" said of a play that has hosts, only none in this shard: not worth a warning. */
function emptyOnlyInShard(project: Project, limit: string | undefined, d: { severity: string; path?: string }): boolean {
  const m = /^plays\[(\d+)\]\.hosts$/.exec(d.path ?? '');
  return d.severity === 'warning' && m !== null && playHosts(project, project.playbook.plays[Number(m[1])], limit).length > 0;
}

async function prepareRun(o: RunCommandOptions, io: Io): Promise<Prepared> {
  const env = io.env;
  const ask = (question: string) => (io.prompt ? io.prompt(question) : Promise.reject(noTerminal(question)));
  const vault = await vaultContext(o.vault ?? { vaultIds: [], vaultPasswordFiles: [], askVaultPass: false }, io, false, o.ansibleCfg?.cfg);
  const project = await loadProject({
    playbookPath: o.playbook,
    inventoryPath: o.inventory,
    extraVars: { ...parseExtraVars(o.extraVars ?? [], vault), ...(o.extraVarsObject ?? {}) },
    secretsFile: o.secretsFile,
    vault,
    rolesPath: o.rolesPath,
    ansibleCfg: o.ansibleCfg,
  });
  if (o.startAtTask !== undefined) startAtTask(project.playbook, o.startAtTask);
  // Everything is rendered for every host before any host is contacted.
  if (o.limit) matchHosts(project.inventory, o.limit);
  const sharded = o.shard ? shardHosts(project, o.limit, o.shard) : undefined;
  const limit = sharded ? sharded.limit : o.limit;
  const check = checkRendering(project, (i) => playHosts(project, project.playbook.plays[i], limit), env);
  const diagnostics = sortDiagnostics([...project.warnings, ...check.diagnostics]).filter((d) => !sharded || !emptyOnlyInShard(project, o.limit, d));
  if (diagnostics.some((d) => d.severity === 'error')) throw new ValidationFailed(diagnostics, project.sources, check.redactor);
  const warnings = diagnostics.filter((d) => d.severity === 'warning');
  if (warnings.length) io.stderr(formatDiagnostics(warnings, project.sources, check.redactor));
  const redactor = new Redactor();
  const secrets = new Set<string>();
  const scopeFor = resolveScopes(project, limit, redactor, secrets, env, { tags: o.tags, skipTags: o.skipTags });
  let asked: Promise<string> | undefined;
  const transport: TransportOptions = {
    knownHostsFiles: o.knownHosts?.length ? o.knownHosts : undefined,
    acceptNewHostKeys: o.acceptNewHostKeys,
    sshConfigFile: o.sshConfig,
    // The command's environment, not this process's: the same thing in the binary, the test's own in-process.
    localEnv: env,
    agentSocket: env.SSH_AUTH_SOCK || false,
    connectTimeoutMs: o.connectTimeoutS !== undefined ? o.connectTimeoutS * 1000 : undefined,
    commandTimeoutMs: o.taskTimeoutS !== undefined ? o.taskTimeoutS * 1000 : undefined,
    becomePassword: async (host) => {
      const name = host.connection.become_password_env;
      if (name) {
        const value = env[name];
        if (value === undefined) throw new PlumbError(`become_password_env names ${name}, which is not set`);
        redactor.add(value, `the become password in ${name}`);
        return value;
      }
      if (!o.askBecomePass) return undefined;
      asked ??= ask('BECOME password: ').then((v) => (redactor.add(v, 'the become password'), v));
      return asked;
    },
    passphrase: (path) => ask(`Passphrase for ${path}: `),
  };
  return { project, limit, universe: sharded?.universe, redactor, secrets, transport, scopeFor };
}

export interface RunExtras {
  /** Refuses hosts whose fresh plan no longer matches a saved plan. */
  gate?: (prepared: Prepared) => (p: HostPlan) => string | undefined;
  /** Runs after loading, before any host is contacted (saved plans check their files here). */
  beforeConnect?: (prepared: Prepared) => void;
  /** Where --out writes the plan document. */
  out?: string;
  /** apply PLAN.json: the plan, named in the JSON recap. */
  plan?: string;
}

/** `fingerprints` false: a document only to be read (markdown), which needs no fingerprints and so derives no key. */
function planDocument(prepared: Prepared, o: RunCommandOptions, result: RunResult, fingerprints = true) {
  const fp = fingerprints ? new Fingerprinter(prepared.secrets, newFingerprintKey(), { floor: true }) : undefined;
  const doc = wholePlanDocument(prepared, o, result, fp);
  // Whether any fingerprint used the salt: plumb merge keeps a shard's own key only then.
  return o.shard && prepared.universe ? withShard(doc, o.shard, prepared.universe, (fp?.derivations ?? 0) > 0) : doc;
}

function wholePlanDocument(prepared: Prepared, o: RunCommandOptions, result: RunResult, fp: Fingerprinter | undefined) {
  const { project } = prepared;
  // Vault data given with -e is stored by reference (the arguments and the files' hashes), never decrypted.
  const byReference = vaultExtraVars(o.extraVars ?? []);
  return buildPlanDocument({
    plans: result.plans,
    playIndex: (p) => project.playbook.plays.indexOf(p.play),
    hostOrder: [...project.inventory.hosts.keys()],
    command: {
      playbook: o.playbook,
      inventory: o.inventory,
      ...(o.limit ? { limit: o.limit } : {}),
      ...(o.tags?.length ? { tags: o.tags } : {}),
      ...(o.skipTags?.length ? { skip_tags: o.skipTags } : {}),
      extra_vars: byReference ? {} : project.extraVars,
      ...(byReference ? { extra_args: byReference.args } : {}),
    },
    files: [...project.files, ...(byReference?.files ?? [])],
    fingerprints: fp,
    redact: (t) => prepared.redactor.redact(t),
  });
}

export async function runCommand(mode: 'plan' | 'apply', o: RunCommandOptions, io: Io, extra: RunExtras = {}): Promise<number> {
  const prepared = await prepareRun(o, io);
  extra.beforeConnect?.(prepared);
  const { project, redactor } = prepared;
  // The output boundary: redact first (a secret may hold control characters), then escape
  // whatever host text a formatter did not already escape (idempotent for the rest).
  const err = (line: string) => io.stderr(escapeControl(redactor.redact(line)) + '\n');
  const out = (text: string) => io.stdout(escapeControl(redactor.redact(text)));
  const reporter = await pickReporter(mode, io, err);

  const controller = new AbortController();
  const running = new RunningCommands();
  const onSigint = () => {
    if (controller.signal.aborted) {
      // Quitting drops the connections but not the commands: say what is left behind.
      const still = describeRunning(running.list());
      err(
        still.length
          ? `interrupted again: quitting without waiting. Still running, and they may go on running on the host until they finish${o.taskTimeoutS !== undefined ? ' or --task-timeout ends them' : ''}:\n${still.join('\n')}`
          : 'interrupted again: quitting; no remote command was running',
      );
      process.exit(EXIT.interrupted);
    }
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
      limit: prepared.limit,
      tags: o.tags,
      skipTags: o.skipTags,
      taskTimeoutMs: o.taskTimeoutS !== undefined ? o.taskTimeoutS * 1000 : undefined,
      transport: prepared.transport,
      reporter,
      signal: controller.signal,
      scopeFor: prepared.scopeFor,
      gate: extra.gate?.(prepared),
      running,
    });
  } finally {
    process.off('SIGINT', onSigint);
    await reporter.close();
  }
  if (mode === 'plan') {
    const format = o.format ?? 'text';
    const needDoc = format !== 'text' || extra.out;
    const doc = needDoc ? planDocument(prepared, o, result, format === 'json' || Boolean(extra.out)) : undefined;
    if (extra.out && doc) writeFileSync(extra.out, planJson(doc), { mode: 0o600 });
    if (format === 'json') out(planJson(doc!));
    else if (format === 'markdown') out(planMarkdown(doc!));
    else out(planText(result.plans, { diffs: true }));
    err(recapTable(result.results, 'plan').trimEnd());
    if (extra.out) err(`plan saved to ${extra.out}; apply it with: plumb apply ${extra.out}`);
  } else {
    const json = o.format === 'json';
    // With a JSON recap on stdout, diffs go to stderr so stdout stays one document.
    if (o.diff) (json ? err : out)(planText(result.plans, { diffs: true }));
    if (json || o.out) {
      const recap = recapJson(recapDocument(prepared, o, result, extra.plan));
      if (o.out) writeFileSync(o.out, escapeControl(redactor.redact(recap)));
      if (json) out(recap);
    }
    if (!json) out(recapTable(result.results, 'apply'));
    else err(recapTable(result.results, 'apply').trimEnd());
    // A terminal's progress shows no per-task lines, nor does a condensed log (many hosts): say what changed, grouped.
    if (!json && (interactive(io) || result.results.length > MANY_HOSTS)) out(changeSummary(result.results));
    const refused = result.results.filter((r) => r.status === 'refused').map((r) => r.host);
    if (refused.length) err(`refused (stale plan): ${refused.join(', ')}`);
  }
  if (o.shard && !result.results.length) err(`shard ${shardLabel(o.shard)} has no hosts: nothing to ${mode}`);
  return exitCode(mode, result);
}

function recapDocument(prepared: Prepared, o: RunCommandOptions, result: RunResult, plan: string | undefined) {
  return buildRecap({
    results: result.results,
    interrupted: result.interrupted,
    exitCode: exitCode('apply', result),
    command: {
      playbook: o.playbook,
      inventory: o.inventory,
      ...(plan ? { plan } : {}),
      ...(o.limit && !plan ? { limit: o.limit } : {}),
      ...(o.tags?.length ? { tags: o.tags } : {}),
      ...(o.skipTags?.length ? { skip_tags: o.skipTags } : {}),
    },
    shard: o.shard,
    redact: (t) => prepared.redactor.redact(t),
  });
}

/** `plumb apply PLAN.json`: the plan's own playbook, inventory, hosts, tags and variables, and a gate per host. */
export async function applySavedPlan(planPath: string, o: RunCommandOptions, io: Io): Promise<number> {
  const saved = readSavedPlan(planPath);
  if (o.extraVars?.length || o.tags?.length || o.skipTags?.length || o.limit) {
    throw new SavedPlanError('-e, --tags, --skip-tags and --limit cannot change a saved plan; they were fixed when it was made');
  }
  if (o.inventory && o.inventory !== saved.command.inventory) {
    throw new SavedPlanError(`the plan was made with inventory ${saved.command.inventory}, not ${o.inventory}`);
  }
  const names = [...new Set(saved.hosts.map((h) => h.name))];
  if (!names.length) throw new SavedPlanError(`${planPath}: the plan has no hosts`);
  if (saved.shard && o.shard && (saved.shard.index !== o.shard.index || saved.shard.count !== o.shard.count)) {
    const own = shardLabel(saved.shard);
    throw new SavedPlanError(`${planPath} is the plan of shard ${own}: apply it with --shard ${own} or without --shard, not --shard ${shardLabel(o.shard)}`);
  }
  checkHostKeys(saved, planPath);
  const options: RunCommandOptions = {
    ...o,
    playbook: saved.command.playbook,
    inventory: saved.command.inventory,
    // With --shard the run narrows these to the shard's own (none: a clean no-op).
    limit: exactHostsPattern(names),
    tags: saved.command.tags,
    skipTags: saved.command.skip_tags,
    extraVars: saved.command.extra_args ?? [],
    extraVarsObject: saved.command.extra_vars,
  };
  return runCommand('apply', options, io, {
    plan: planPath,
    beforeConnect: (prepared) => checkPlanFiles(saved, prepared.project.files),
    gate: (prepared) => {
      // A merged plan keys each shard's hosts with that shard's salt: one fingerprinter per key.
      const fingerprinters = new Map<string, Fingerprinter>();
      const fingerprinter = (k: NonNullable<typeof saved.fingerprint_key>) => {
        const id = `${k.N}/${k.r}/${k.p}/${k.salt}`;
        let fp = fingerprinters.get(id);
        if (!fp) fingerprinters.set(id, (fp = new Fingerprinter(prepared.secrets, { N: k.N, r: k.r, p: k.p, salt: Buffer.from(k.salt, 'base64') }, { floor: true })));
        return fp;
      };
      return (fresh) => {
        const index = prepared.project.playbook.plays.indexOf(fresh.play);
        const host = saved.hosts.find((h) => h.name === fresh.host && h.play_index === index);
        const fp = fingerprinter(host?.fingerprint_key ?? saved.fingerprint_key!);
        return staleReason(host, fresh, fp);
      };
    },
  });
}
