/**
 * Executable inventory scripts, as Ansible's `script` inventory plugin runs
 * them: `SCRIPT --list` prints a JSON object of groups (a list of hosts, or
 * `hosts`/`vars`/`children`) and `_meta.hostvars`; without `_meta`, each host's
 * variables come from `SCRIPT --host NAME`. The script runs without a shell,
 * with no input, a bounded output and a time limit; what it prints is
 * untrusted and never quoted back in a message.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { DiagnosticList } from '../source/diagnostics.js';
import { READ_LIMITS } from '../local-file.js';
import { NAME, type InventoryBuilder } from './builder.js';
import { isRecord } from './yaml-inventory.js';

/** An inventory script that needs longer is waiting for something that will not come. */
const SCRIPT_TIMEOUT_MS = 60_000;
const OUTPUT_LIMIT = READ_LIMITS.yaml;

/**
 * Whether Ansible would run `file` as an inventory script: executable, and a
 * program (`#!` or an ELF binary). An INI file that merely has the executable
 * bit fails to run in Ansible and is then read as INI; plumb reads it as INI
 * directly.
 */
export function isInventoryScript(file: string): boolean {
  try {
    const st = statSync(file);
    if (!st.isFile() || (st.mode & 0o111) === 0) return false;
    const head = Buffer.alloc(4);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
    return head.subarray(0, 2).toString('latin1') === '#!' || head.toString('latin1') === '\x7fELF';
  } catch {
    return false;
  }
}

/** Run the script and add its groups, hosts and variables to `b`; problems are errors at the script. */
export function loadInventoryScript(file: string, b: InventoryBuilder, diags: DiagnosticList): void {
  const at = { file, line: 1, column: 1 };
  const fail = (message: string) => diags.error(at, `inventory script: ${message}`);
  const list = runScript(file, ['--list']);
  if ('error' in list) return fail(list.error);
  diags.files.push({ path: file, sha256: createHash('sha256').update(list.fileBytes).digest('hex') });
  const data = parseJson(list.stdout);
  if ('error' in data) return fail(`--list ${data.error}`);
  if (!isRecord(data.value)) return fail('--list must print a JSON object of groups (and _meta)');
  const hosts: string[] = [];
  const named = (name: unknown, what: string): name is string => {
    if (typeof name === 'string' && NAME.test(name)) return true;
    fail(`--list names ${what} ${JSON.stringify(String(name)).slice(0, 80)}, which is not a valid name`);
    return false;
  };
  for (const [groupName, written] of Object.entries(data.value)) {
    if (groupName === '_meta' || !named(groupName, 'a group')) continue;
    const group = b.group(groupName, at, groupName);
    // Ansible's reading: a list is the hosts; a mapping without hosts/vars/children is the variables of a host named like the group.
    const spec = !isRecord(written) ? { hosts: written } : ['hosts', 'vars', 'children'].some((k) => k in written) ? written : { hosts: [groupName], vars: written };
    if (spec.hosts !== undefined) {
      if (!Array.isArray(spec.hosts)) {
        fail(`group "${groupName}": "hosts" must be a list of host names`);
        continue;
      }
      for (const h of spec.hosts) {
        if (!named(h, 'a host')) continue;
        b.addHost(group, b.host(h, at, groupName));
        if (!hosts.includes(h)) hosts.push(h);
      }
    }
    if (spec.vars !== undefined) {
      if (isRecord(spec.vars)) Object.assign(group.vars, spec.vars);
      else fail(`group "${groupName}": "vars" must be a mapping`);
    }
    if (isRecord(written) && written.children !== undefined) {
      if (!Array.isArray(written.children)) fail(`group "${groupName}": "children" must be a list of group names`);
      else for (const c of written.children) if (named(c, 'a group')) b.addChild(group, b.group(c, at, groupName));
    }
  }
  const meta = data.value._meta;
  const hostvars = isRecord(meta) && 'hostvars' in meta ? meta.hostvars : undefined;
  if (hostvars !== undefined && !isRecord(hostvars)) return fail('_meta.hostvars must be a mapping of host names to variables');
  for (const h of hosts) {
    let vars: unknown;
    if (hostvars) vars = hostvars[h] ?? {};
    else {
      const one = runScript(file, ['--host', h]);
      if ('error' in one) return fail(one.error);
      if (one.stdout.trim() === '') continue;
      const parsed = parseJson(one.stdout);
      if ('error' in parsed) return fail(`--host ${h} ${parsed.error}`);
      vars = parsed.value;
    }
    if (!isRecord(vars)) fail(`the variables of host "${h}" must be a mapping`);
    else Object.assign(b.host(h, at).vars, vars);
  }
}

function runScript(file: string, args: string[]): { stdout: string; fileBytes: Buffer } | { error: string } {
  let out: Buffer;
  try {
    out = execFileSync(file, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: SCRIPT_TIMEOUT_MS, maxBuffer: OUTPUT_LIMIT, killSignal: 'SIGKILL' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { status?: number | null; signal?: string | null; stderr?: Buffer };
    const why =
      e.code === 'ENOBUFS'
        ? `it printed more than ${OUTPUT_LIMIT} bytes`
        : e.signal
          ? `it was ended by ${e.signal}${e.signal === 'SIGKILL' ? ` (it ran longer than ${SCRIPT_TIMEOUT_MS / 1000} s, or was killed)` : ''}`
          : e.status !== undefined && e.status !== null
            ? `it exited with status ${e.status}${stderrLine(e.stderr)}`
            : `it could not be run (${e.code ?? 'unknown error'})`;
    return { error: `${[file, ...args].join(' ')} failed: ${why}` };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(out);
  } catch {
    return { error: `${[file, ...args].join(' ')} printed text that is not UTF-8` };
  }
  return { stdout: text, fileBytes: readFileSync(file) };
}

/** The last line the script wrote to stderr, short and printable: its own explanation. */
function stderrLine(stderr: Buffer | undefined): string {
  const line = (stderr?.toString('utf8') ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1);
  if (!line) return '';
  const clean = line.replace(/[^\x20-\x7e]/g, '?');
  return `: ${clean.length > 200 ? `${clean.slice(0, 199)}…` : clean}`;
}

/** JSON as the script printed it; the error says where, never what (the output may hold passwords). */
function parseJson(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message);
    return { error: `printed output that is not JSON${at ? ` (at offset ${at[1]})` : ''}` };
  }
}
