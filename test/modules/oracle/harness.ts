/**
 * The module differential harness: each case (test/modules/oracle/cases/<module>.yaml) is one
 * task in Ansible's spelling plus the files it starts from. The task runs under `ansible-playbook`
 * on one scratch directory and under plumb (the real CLI, `connection: local`) on an identical
 * one, twice each; the directories (type, mode, owner, bytes, link targets) and the task's
 * outcome (ok, changed, failed) must match after the first run and after the second.
 *
 * Both tools get every case at once: one inventory host per case (all `connection: local`), one
 * play per host, so a failing case stops only its own host and each tool starts once per run.
 * Cases that ask for another umask run in their own batch under it.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { runCli } from '../../in-process.js';
import { startFileServerProcess } from '../../fleet/http.js';

const here = fileURLToPath(new URL('.', import.meta.url));
export const casesDir = resolve(here, 'cases');
export const knownDifferencesFile = resolve(here, 'known-differences.yaml');
const repoRoot = resolve(here, '../../..');

/** One path of a case's starting state, relative to its scratch directory. */
export interface SetupEntry {
  content?: string;
  dir?: boolean;
  /** A symlink to this target (relative, or absolute with @DIR@). */
  link?: string;
  mode?: string;
  owner?: string;
  group?: string;
}

export interface OracleCase {
  /** "<module>/<name>", unique. */
  id: string;
  module: string;
  /** The task as Ansible spells it: `{ copy: { dest: "@DIR@/a", content: "x" } }`, with other task keys beside it. */
  task: Record<string, unknown>;
  setup: Record<string, SetupEntry>;
  /** Local files next to the playbook (copy src, template src), named in the task as @FILES@/name. */
  files: Record<string, string>;
  vars: Record<string, unknown>;
  /** The umask both tools run under (octal string); default 0022. */
  umask: string;
  /**
   * Archives made next to the playbook (with @FILES@), by file name (.tar, .tar.gz/.tgz, .tar.bz2,
   * .tar.xz, .zip): member path → content, a path ending in / a directory. Members are 0644
   * (directories 0755), owned by root, dated 2020-01-01.
   */
  archives: Record<string, Record<string, string>>;
}

export type Outcome = 'ok' | 'changed' | 'failed';

export interface RunState {
  outcome: Outcome;
  /** One line per path under the scratch directory. */
  tree: string[];
}

/** One case's four runs (first and second, per tool) and whether they agree. */
export interface CaseResult<C extends { id: string; module: string } = OracleCase> {
  case: C;
  ansible: [RunState, RunState];
  plumb: [RunState, RunState];
  agree: boolean;
  /** What differs, for a human. */
  difference: string;
}

const caseKeys = new Set(['name', 'task', 'setup', 'files', 'vars', 'umask', 'archives']);

/** One raw case of a cases directory: its file's module, its id (<module>/<name>) and its keys. */
export interface RawCase {
  file: string;
  module: string;
  id: string;
  raw: Record<string, unknown>;
}

/**
 * Every case of the `<module>.yaml` files in `dir` (only `modules`' when given), in file order;
 * a key outside `keys` or an id used twice is an error naming the file.
 */
export function readCaseFiles(dir: string, keys: ReadonlySet<string>, modules?: readonly string[]): RawCase[] {
  const out: RawCase[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const module = basename(file, '.yaml');
    if (modules && !modules.includes(module)) continue;
    for (const raw of parse(readFileSync(join(dir, file), 'utf8')) as Array<Record<string, unknown>>) {
      const extra = Object.keys(raw).filter((k) => !keys.has(k));
      if (extra.length) throw new Error(`${file}: case ${String(raw.name)}: unknown keys ${extra.join(', ')}`);
      const id = `${module}/${String(raw.name)}`;
      if (out.some((c) => c.id === id)) throw new Error(`${file}: duplicate case ${id}`);
      out.push({ file, module, id, raw });
    }
  }
  return out;
}

export function loadCases(): OracleCase[] {
  return readCaseFiles(casesDir, caseKeys).map(({ id, module, raw }) => ({
    id,
    module,
    task: raw.task as Record<string, unknown>,
    setup: (raw.setup ?? {}) as Record<string, SetupEntry>,
    files: (raw.files ?? {}) as Record<string, string>,
    vars: (raw.vars ?? {}) as Record<string, unknown>,
    umask: String(raw.umask ?? '0022'),
    archives: (raw.archives ?? {}) as Record<string, Record<string, string>>,
  }));
}

/**
 * get_url and unarchive cases (issue 15): the local files are also served over HTTP on 127.0.0.1
 * while the cases run (by a child process: ansible-playbook runs synchronously here), @HTTP@ being the URL of the case's files directory, and @ABSFILES@ its
 * absolute path (an archive already on the host, for remote_src).
 */
let served: { server: Awaited<ReturnType<typeof startFileServerProcess>>; root: string } | undefined;

/** Every string in `value` with the placeholders replaced; `files` is relative to the playbook, in `scratch`'s work directory. */
export function substitute(value: unknown, dir: string, files: string, scratch = ''): unknown {
  if (typeof value === 'string') {
    const abs = join(dirname(scratch), files);
    const http = served ? `${served.server.url}/${relative(served.root, abs)}` : '@HTTP@';
    return value.split('@DIR@').join(dir).split('@ABSFILES@').join(abs).split('@FILES@').join(files).split('@HTTP@').join(http);
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, dir, files, scratch));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, dir, files, scratch)]));
  return value;
}

/** Build a case's archive with the system's tar or zip, from members with fixed modes, owner and time. */
function makeArchive(path: string, members: Record<string, string>): void {
  const src = mkdtempSync(join(tmpdir(), 'plumb-archive-'));
  try {
    for (const [name, content] of Object.entries(members)) {
      const p = join(src, name);
      if (name.endsWith('/')) mkdirSync(p, { recursive: true });
      else {
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, content);
        chmodSync(p, 0o644);
      }
    }
    const tops = [...new Set(Object.keys(members).map((n) => n.split('/')[0]))];
    spawnSync('sh', ['-c', 'find . -type d -exec chmod 0755 {} + && find . -exec touch -h -d 2020-01-01T00:00:00Z {} +'], { cwd: src });
    const name = basename(path);
    const flag = /\.(tar\.gz|tgz)$/.test(name) ? '-z' : /\.tar\.bz2$/.test(name) ? '-j' : /\.tar\.xz$/.test(name) ? '-J' : '';
    const r = name.endsWith('.zip')
      ? spawnSync('zip', ['-q', '-r', '-X', path, ...tops], { cwd: src })
      : spawnSync('tar', ['-c', ...(flag ? [flag] : []), '--owner=0', '--group=0', '-f', path, ...tops], { cwd: src });
    if (r.status !== 0) throw new Error(`could not build ${name}: ${String(r.stderr)}`);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}

function idOf(name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  return Number(spawnSync('id', ['-u', '--', name], { encoding: 'utf8' }).stdout.trim());
}

function gidOf(name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  return Number(spawnSync('getent', ['group', name], { encoding: 'utf8' }).stdout.split(':')[2]);
}

function makeSetup(dir: string, setup: Record<string, SetupEntry>): void {
  mkdirSync(dir, { recursive: true });
  for (const [rel, e] of Object.entries(setup)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    if (e.dir) mkdirSync(path, { recursive: true });
    else if (e.link !== undefined) symlinkSync(e.link.split('@DIR@').join(dir), path);
    else writeFileSync(path, e.content ?? '');
    if (e.link === undefined) {
      chmodSync(path, parseInt(e.mode ?? (e.dir ? '0755' : '0644'), 8));
      if (e.owner !== undefined || e.group !== undefined) chownSync(path, e.owner ? idOf(e.owner) : -1, e.group ? gidOf(e.group) : -1);
    }
  }
}

/** Backup names carry a timestamp (and, in Ansible, a pid): compared by their shape. */
function normalName(name: string): string {
  return name.replace(/(\.\d+)?\.\d{4}-\d{2}-\d{2}@\d{2}:\d{2}:\d{2}~$/, '.BACKUP~');
}

/** The state of a scratch directory, one sorted line per path; `dir` itself shows as ".". */
export function snapshot(dir: string): string[] {
  const lines: string[] = [];
  const walk = (path: string, rel: string) => {
    const st = lstatSync(path);
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    const who = `${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) {
      lines.push(`${rel} link -> ${readlinkSync(path).split(dir).join('@DIR@')} ${who}`);
    } else if (st.isDirectory()) {
      lines.push(`${rel} dir ${mode} ${who}`);
      for (const name of readdirSync(path).sort()) walk(join(path, name), rel === '.' ? normalName(name) : `${rel}/${normalName(name)}`);
    } else if (st.isFile()) {
      const bytes = readFileSync(path);
      const text = bytes.length <= 2048 ? JSON.stringify(bytes.toString('latin1').split(dir).join('@DIR@')) : `${bytes.length} bytes`;
      lines.push(`${rel} file ${mode} ${who} ${text}${st.nlink > 1 ? ` nlink=${st.nlink}` : ''}`);
    } else {
      lines.push(`${rel} other ${mode} ${who}`);
    }
  };
  walk(dir, '.');
  return lines.sort();
}

interface Batch {
  umask: string;
  cases: OracleCase[];
}

function batches(cases: OracleCase[]): Batch[] {
  const by = new Map<string, OracleCase[]>();
  for (const c of cases) by.set(c.umask, [...(by.get(c.umask) ?? []), c]);
  return [...by.entries()].map(([umask, list]) => ({ umask, cases: list }));
}

/** The inventory name of case i of a batch, the same in both tools. */
export const hostOf = (i: number) => `case${String(i).padStart(3, '0')}`;

/** One case's task as both tools run it: on inventory host `host`, placeholders already replaced. */
export interface CaseTask {
  id: string;
  host: string;
  task: object;
  vars: Record<string, unknown>;
  gatherFacts?: boolean;
}

/** plumb's playbook: one play per case, on its own host. */
export function plumbCasePlaybook(tasks: CaseTask[]): string {
  const plays = tasks.map((t) => ({
    name: t.id,
    hosts: t.host,
    gather_facts: t.gatherFacts ?? false,
    ...(Object.keys(t.vars).length ? { vars: t.vars } : {}),
    tasks: [{ name: t.id, ...t.task }],
  }));
  return stringify(plays, { lineWidth: 0 });
}

/**
 * Ansible runs plays one after another, so one play per case would run the cases one at a time:
 * its playbook is one play over every case host with the free strategy, each host including
 * its own case's task file (a failed case stops only its host, as in plumb). A case that reads
 * facts gathers them first in its own file (setup reports ok, so the outcome is the task's).
 */
export function ansibleCasePlaybook(tasks: CaseTask[], work: string): string {
  for (const t of tasks) {
    const task = { name: t.id, ...t.task };
    const withVars = Object.keys(t.vars).length ? { block: [task], vars: t.vars } : task;
    writeFileSync(join(work, `task-${t.host}.yml`), stringify([...(t.gatherFacts ? [{ setup: {} }] : []), withVars], { lineWidth: 0 }));
  }
  return stringify([{ name: 'cases', hosts: 'all', gather_facts: false, strategy: 'free', tasks: [{ include_tasks: 'task-{{ inventory_hostname }}.yml' }] }]);
}

const scratchTasks = (cases: OracleCase[], scratch: string, first = 0): CaseTask[] =>
  cases.map((c, n) => {
    const host = hostOf(first + n);
    return { id: c.id, host, task: substitute(c.task, join(scratch, host), `files-${host}`, scratch) as object, vars: c.vars };
  });

/** plumb's playbook for a batch, leaving out the cases in `skip` (by index). */
function playbook(cases: OracleCase[], scratch: string, first = 0, skip: Set<number> = new Set()): string {
  return plumbCasePlaybook(scratchTasks(cases, scratch, first).filter((_, n) => !skip.has(first + n)));
}

function inventory(cases: OracleCase[]): string {
  return cases.map((_, i) => `${hostOf(i)} ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n`).join('');
}

/** The outcome per host (case i runs on hostOf(i)) from Ansible's recap lines `host : ok=N changed=N unreachable=N failed=N`. */
export function ansibleOutcomes(stdout: string, count: number): Outcome[] {
  const out: Outcome[] = [];
  for (let i = 0; i < count; i++) {
    const m = new RegExp(`^${hostOf(i)}\\s+: ok=(\\d+)\\s+changed=(\\d+)\\s+unreachable=(\\d+)\\s+failed=(\\d+)`, 'm').exec(stdout);
    if (!m) throw new Error(`ansible-playbook printed no recap for ${hostOf(i)}:\n${stdout.slice(-3000)}`);
    out.push(Number(m[4]) > 0 || Number(m[3]) > 0 ? 'failed' : Number(m[2]) > 0 ? 'changed' : 'ok');
  }
  return out;
}

/** The same from plumb's recap table rows; a case plumb refused at validate counts as failed. */
export function plumbOutcomes(stdout: string, count: number, refused: Set<number>): Outcome[] {
  const out: Outcome[] = [];
  for (let i = 0; i < count; i++) {
    if (refused.has(i)) {
      out.push('failed');
      continue;
    }
    const m = new RegExp(`^${hostOf(i)}\\s+\\S+\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)`, 'm').exec(stdout);
    if (!m) throw new Error(`plumb printed no recap row for ${hostOf(i)}:\n${stdout.slice(-3000)}`);
    out.push(Number(m[3]) > 0 || Number(m[4]) > 0 ? 'failed' : Number(m[2]) > 0 ? 'changed' : 'ok');
  }
  return out;
}

function writeWork(work: string, b: Batch, scratch: string, forAnsible: boolean): void {
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'play.yml'), forAnsible ? ansibleCasePlaybook(scratchTasks(b.cases, scratch), work) : playbook(b.cases, scratch));
  writeFileSync(join(work, 'hosts.ini'), inventory(b.cases));
  b.cases.forEach((c, i) => {
    for (const [name, text] of Object.entries(c.files)) {
      const path = join(work, `files-${hostOf(i)}`, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
    for (const [name, members] of Object.entries(c.archives)) {
      mkdirSync(join(work, `files-${hostOf(i)}`), { recursive: true });
      makeArchive(join(work, `files-${hostOf(i)}`, name), members);
    }
    makeSetup(join(scratch, hostOf(i)), c.setup);
  });
}

/** No developer settings (ansible.cfg, ANSIBLE_*) may change what the oracle does. */
export function ansibleEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    ANSIBLE_CONFIG: resolve(repoRoot, 'test/oracle/neutral.cfg'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_LOCALHOST_WARNING: 'false',
    ANSIBLE_HOST_KEY_CHECKING: 'false',
    ANSIBLE_RETRY_FILES_ENABLED: 'false',
    ANSIBLE_PIPELINING: 'true',
  };
}

function runAnsible(work: string, umask: string): string {
  const r = spawnSync('sh', ['-c', `umask ${umask} && exec ansible-playbook -i hosts.ini -f 8 play.yml`], {
    cwd: work,
    encoding: 'utf8',
    env: ansibleEnv(),
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return r.stdout;
}

export const plumbEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', CI: 'true', NO_COLOR: '1' };

async function runPlumb(work: string, umask: string): Promise<string> {
  const old = process.umask(parseInt(umask, 8));
  try {
    const r = await runCli(['apply', join(work, 'play.yml'), '-i', join(work, 'hosts.ini'), '--forks', '8'], plumbEnv);
    return r.stdout;
  } finally {
    process.umask(old);
  }
}

/**
 * The cases plumb refuses before contacting anything (an argument or module it does not have):
 * a refused playbook runs nothing at all, so each is found with its own `plumb validate` and
 * counts as a failed task that changed nothing.
 */
async function refusedByPlumb(work: string, cases: OracleCase[], scratch: string): Promise<Set<number>> {
  const validate = (file: string) => runCli(['validate', file, '-i', join(work, 'hosts.ini')], plumbEnv);
  if ((await validate(join(work, 'play.yml'))).code === 0) return new Set();
  const refused = new Set<number>();
  for (let i = 0; i < cases.length; i++) {
    const file = join(work, `validate-${hostOf(i)}.yml`);
    writeFileSync(file, playbook([cases[i]], scratch, i));
    if ((await validate(file)).code !== 0) refused.add(i);
  }
  return refused;
}

export function describeDifference(a: [RunState, RunState], p: [RunState, RunState]): string {
  const parts: string[] = [];
  for (const run of [0, 1] as const) {
    const label = run === 0 ? 'first run' : 'second run';
    if (a[run].outcome !== p[run].outcome) parts.push(`${label}: Ansible ${a[run].outcome}, plumb ${p[run].outcome}`);
    const onlyA = a[run].tree.filter((l) => !p[run].tree.includes(l));
    const onlyP = p[run].tree.filter((l) => !a[run].tree.includes(l));
    if (onlyA.length || onlyP.length) parts.push(`${label} state: Ansible ${JSON.stringify(onlyA)} plumb ${JSON.stringify(onlyP)}`);
  }
  return parts.join('; ');
}

/** Run every case under both tools (twice each) and compare. */
export async function compareAll(cases: OracleCase[]): Promise<CaseResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'plumb-oracle-'));
  served = cases.some((c) => JSON.stringify(c.task).includes('@HTTP@')) ? { server: await startFileServerProcess(root, '127.0.0.1'), root } : undefined;
  try {
    const results: CaseResult[] = [];
    for (const [n, b] of batches(cases).entries()) {
      const states = { ansible: [] as RunState[][], plumb: [] as RunState[][] };
      for (const tool of ['ansible', 'plumb'] as const) {
        const work = join(root, `${tool}-${n}`);
        const scratch = join(work, 'scratch');
        writeWork(work, b, scratch, tool === 'ansible');
        const t1 = Date.now();
        const refused = tool === 'plumb' ? await refusedByPlumb(work, b.cases, scratch) : new Set<number>();
        if (process.env.ORACLE_TIMING) console.error(`${tool} batch ${n} validate: ${Date.now() - t1} ms`);
        if (refused.size) writeFileSync(join(work, 'play.yml'), playbook(b.cases, scratch, 0, refused));
        for (let run = 0; run < 2; run++) {
          const t0 = Date.now();
          const outcomes =
            tool === 'ansible'
              ? ansibleOutcomes(runAnsible(work, b.umask), b.cases.length)
              : plumbOutcomes(refused.size === b.cases.length ? '' : await runPlumb(work, b.umask), b.cases.length, refused);
          if (process.env.ORACLE_TIMING) console.error(`${tool} batch ${n} run ${run}: ${Date.now() - t0} ms`);
          states[tool].push(b.cases.map((_, i) => ({ outcome: outcomes[i], tree: snapshot(join(scratch, hostOf(i))) })));
        }
      }
      b.cases.forEach((c, i) => {
        const ansible: [RunState, RunState] = [states.ansible[0][i], states.ansible[1][i]];
        const plumb: [RunState, RunState] = [states.plumb[0][i], states.plumb[1][i]];
        const difference = describeDifference(ansible, plumb);
        results.push({ case: c, ansible, plumb, agree: difference === '', difference });
      });
    }
    return results;
  } finally {
    await served?.server.close();
    served = undefined;
    rmSync(root, { recursive: true, force: true });
  }
}

export interface KnownDifferences {
  differences: Array<{ reason: string; cases: string[] }>;
}

export function readKnownDifferences(file = knownDifferencesFile): KnownDifferences {
  const k = parse(readFileSync(file, 'utf8')) as KnownDifferences | null;
  return { differences: k?.differences ?? [] };
}

/** Whether ansible-playbook can run here. */
export function ansibleAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v ansible-playbook'], { encoding: 'utf8' }).status === 0;
}
