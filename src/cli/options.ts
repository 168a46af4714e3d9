/**
 * Command-line options shared by commands (node:util parseArgs). plan and
 * apply take `commonOptions` whole; validate and inventory pick a subset.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest } from '../source/suggest.js';
import { parseTimeoutSeconds } from '../timeouts.js';
import { parseShard, type Shard } from '../engine/shard.js';
import { UsageError } from './errors.js';

type OptionSpec = NonNullable<ParseArgsConfig['options']>[string];

export const commonOptions = {
  inventory: { type: 'string', short: 'i' },
  limit: { type: 'string', short: 'l' },
  tags: { type: 'string', short: 't', multiple: true },
  'skip-tags': { type: 'string', multiple: true },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  secrets: { type: 'string' },
  'vault-id': { type: 'string', multiple: true },
  'vault-password-file': { type: 'string', multiple: true },
  'ask-vault-pass': { type: 'boolean', short: 'J' },
  verbose: { type: 'boolean', short: 'v' },
  'known-hosts': { type: 'string', multiple: true },
  'accept-new-host-keys': { type: 'boolean' },
  'ssh-config': { type: 'string' },
  'ask-become-pass': { type: 'boolean', short: 'K' },
  'connect-timeout': { type: 'string' },
  'task-timeout': { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string', short: 'o' },
  forks: { type: 'string', short: 'f' },
  'fail-fast': { type: 'boolean' },
  diff: { type: 'boolean', short: 'D' },
  'roles-path': { type: 'string', multiple: true },
  'list-hosts': { type: 'boolean' },
  'list-tasks': { type: 'boolean' },
  'list-tags': { type: 'boolean' },
  'start-at-task': { type: 'string' },
  list: { type: 'boolean' },
  'playbook-dir': { type: 'string' },
  shard: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof commonOptions;

/** A subset of the common options, always with --help and --verbose. */
export function pickOptions<K extends OptionName>(...names: K[]): Pick<typeof commonOptions, K | 'help' | 'verbose'> {
  const out: Record<string, OptionSpec> = { help: commonOptions.help, verbose: commonOptions.verbose };
  for (const n of names) out[n] = commonOptions[n];
  return out as Pick<typeof commonOptions, K | 'help' | 'verbose'>;
}

/** Typed, checked values of the common options. */
export interface CommonOptions {
  inventory?: string;
  limit?: string;
  tags: string[];
  skipTags: string[];
  extraVars: string[];
  secrets?: string;
  vaultIds: string[];
  vaultPasswordFiles: string[];
  askVaultPass: boolean;
  verbose: boolean;
  knownHosts: string[];
  acceptNewHostKeys: boolean;
  sshConfig?: string;
  askBecomePass: boolean;
  connectTimeoutS?: number;
  taskTimeoutS?: number;
  format?: 'text' | 'markdown' | 'json';
  out?: string;
  forks?: number;
  failFast: boolean;
  diff: boolean;
  /** --roles-path, colon-separated and repeatable, in order. */
  rolesPath: string[];
  listHosts: boolean;
  listTasks: boolean;
  listTags: boolean;
  startAtTask?: string;
  list: boolean;
  playbookDir?: string;
  /** --shard I/N: this job's part of the hosts (engine/shard.ts). */
  shard?: Shard;
  help: boolean;
}

export interface Parsed {
  options: CommonOptions;
  positionals: string[];
}

/** Parse argv for `command` with the given option set; unknown options get a suggestion. */
export function parseCommand(command: string, argv: string[], options: Record<string, OptionSpec>): Parsed {
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true }));
  } catch (err) {
    throw new UsageError(explainParseError(err as Error, options), command);
  }
  return { options: toCommon(values, command), positionals };
}

function explainParseError(err: Error & { code?: string }, options: Record<string, OptionSpec>): string {
  const m = /Unknown option '([^']+)'/.exec(err.message);
  if (m) {
    const name = m[1].replace(/^-+/, '');
    const near = closest(name, Object.keys(options), 1);
    return `unknown option ${m[1]}${near.length ? ` (did you mean --${near[0]}?)` : ''}`;
  }
  const arg = /Option '([^']+)' argument missing/.exec(err.message);
  if (arg) return `option ${arg[1].replace(/ <value>$/, '')} needs a value`;
  return err.message.split('\n')[0].replace(/\. To specify .*$/, '');
}

function positiveNumber(value: unknown, flag: string, command: string, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} needs a positive ${integer ? 'whole number' : 'number'}, got ${JSON.stringify(value)}`, command);
  }
  return n;
}

function timeoutSeconds(value: unknown, flag: string, command: string): number | undefined {
  if (value === undefined) return undefined;
  const s = parseTimeoutSeconds(String(value));
  if (typeof s === 'string') throw new UsageError(`${flag} ${s}, got ${JSON.stringify(value)}`, command);
  return s;
}

/** `-t a,b -t c` → [a, b, c]. */
function tagList(values: string[]): string[] {
  return values
    .flatMap((t) => t.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
}

function shardOption(value: unknown, command: string): Shard | undefined {
  if (value === undefined) return undefined;
  const shard = parseShard(String(value));
  if (typeof shard === 'string') throw new UsageError(`--shard ${shard}`, command);
  return shard;
}

function toCommon(v: Record<string, unknown>, command: string): CommonOptions {
  const format = v.format as string | undefined;
  if (format !== undefined && !['text', 'markdown', 'json'].includes(format)) {
    throw new UsageError(`--format must be text, markdown or json, got ${JSON.stringify(format)}`, command);
  }
  const list = (x: unknown) => (x as string[] | undefined) ?? [];
  return {
    inventory: v.inventory as string | undefined,
    limit: v.limit as string | undefined,
    tags: tagList(list(v.tags)),
    skipTags: tagList(list(v['skip-tags'])),
    extraVars: list(v['extra-vars']),
    secrets: v.secrets as string | undefined,
    vaultIds: list(v['vault-id']),
    vaultPasswordFiles: list(v['vault-password-file']),
    askVaultPass: v['ask-vault-pass'] === true,
    verbose: v.verbose === true,
    knownHosts: list(v['known-hosts']),
    acceptNewHostKeys: v['accept-new-host-keys'] === true,
    sshConfig: v['ssh-config'] as string | undefined,
    askBecomePass: v['ask-become-pass'] === true,
    connectTimeoutS: timeoutSeconds(v['connect-timeout'], '--connect-timeout', command),
    taskTimeoutS: timeoutSeconds(v['task-timeout'], '--task-timeout', command),
    format: format as CommonOptions['format'],
    out: v.out as string | undefined,
    forks: positiveNumber(v.forks, '--forks', command, true),
    failFast: v['fail-fast'] === true,
    diff: v.diff === true,
    rolesPath: list(v['roles-path'])
      .flatMap((p) => p.split(':'))
      .filter(Boolean),
    listHosts: v['list-hosts'] === true,
    listTasks: v['list-tasks'] === true,
    listTags: v['list-tags'] === true,
    startAtTask: v['start-at-task'] as string | undefined,
    list: v.list === true,
    playbookDir: v['playbook-dir'] as string | undefined,
    shard: shardOption(v.shard, command),
    help: v.help === true,
  };
}

/** The help lines for the given options, so every command documents them the same way. */
const optionHelp: Record<OptionName, string> = {
  inventory: '-i, --inventory PATH      inventory: Ansible YAML or INI file, or a directory of them',
  limit: '-l, --limit PATTERN       only hosts matching PATTERN (all, group, host, web*, a:b, a:&b, a:!b)',
  tags: '-t, --tags T[,T]          only tasks with one of these tags (always: always runs; never: only when listed)',
  'skip-tags': '    --skip-tags T[,T]     leave out tasks with one of these tags (always ones too when always is listed)',
  'extra-vars': '-e, --extra-vars K=V      set a variable (highest precedence); also @vars.yaml; repeatable',
  secrets: '    --secrets FILE        YAML mapping of secret values; they are redacted everywhere',
  'vault-id': '    --vault-id [L@]FILE   Ansible Vault password (L@prompt asks); repeatable',
  'vault-password-file': '    --vault-password-file FILE  Ansible Vault password (default $ANSIBLE_VAULT_PASSWORD_FILE); an executable FILE is run',
  'ask-vault-pass': '-J, --ask-vault-pass      prompt for the Ansible Vault password',
  verbose: '-v, --verbose             more detail; stack traces for unexpected errors',
  'known-hosts': '    --known-hosts FILE    known_hosts file (default ~/.ssh/known_hosts); repeatable',
  'accept-new-host-keys': '    --accept-new-host-keys  trust and record first-seen host keys (never changed ones)',
  'ssh-config': '    --ssh-config FILE     ssh_config file (default ~/.ssh/config)',
  'ask-become-pass': '-K, --ask-become-pass     prompt for the sudo password',
  'connect-timeout': '    --connect-timeout S   seconds to wait for a connection',
  'task-timeout': '    --task-timeout S      seconds one command may run',
  format: '    --format F            text, markdown or json',
  out: '-o, --out FILE            write the result to FILE',
  forks: '-f, --forks N             hosts worked on at once (default 50)',
  'fail-fast': '    --fail-fast           stop everything at the first failed host',
  diff: '-D, --diff                show unified diffs of file changes',
  'roles-path': '    --roles-path DIR[:DIR]  where roles are looked for after roles/ beside the playbook; repeatable',
  'list-hosts': "    --list-hosts          list each play's hosts and stop (contacts nothing)",
  'list-tasks': "    --list-tasks          list each play's tasks, with their tags, and stop (contacts nothing)",
  'list-tags': "    --list-tags           list the tags of each play's tasks and stop (contacts nothing)",
  'start-at-task': '    --start-at-task NAME  skip the tasks before the first task named NAME (or "role : NAME")',
  list: '    --list                JSON shaped like `ansible-inventory --list` (_meta.hostvars, groups)',
  'playbook-dir': '    --playbook-dir DIR    also apply group_vars/ and host_vars/ beside a playbook in DIR',
  shard: '    --shard I/N           only shard I of N of the hosts (split by host name; see docs/ci-matrix.md)',
  help: '-h, --help                this help',
};

export function describeOptions(names: OptionName[]): string {
  return names.map((n) => `  ${optionHelp[n]}`).join('\n');
}
