/**
 * The fleet-host half of the module differential harness, for modules that change the system
 * (packages, users, services, sysctl, hostname, cron, ...), which must never run against this
 * machine. Each case runs on its own pair of real Debian fleet hosts: `ansible-playbook` over ssh
 * on one, plumb on the other, twice each; after each run an `observe` script prints, on each host,
 * the state the task manages, and the two printouts and the task's outcome (ok, changed, failed)
 * must match.
 *
 * Cases: test/modules/oracle/fleet-cases/<module>.yaml, a list of
 *   - name: unique within the file (the case id is <module>/<name>, shared with the scratch cases'
 *       namespace: the two sets must not reuse an id)
 *     task: the task as Ansible spells it, with other task keys beside the module (become, vars…);
 *       @FILES@/x names a local file from `files`
 *     setup: a shell script run as root on both hosts before the first run (optional)
 *     observe: a shell script whose stdout (and exit status, when not 0) is compared after each run;
 *       the host's own name and address print as @HOST@ and @ADDR@
 *     vars / files: as the scratch cases; gather_facts: true when the task reads facts
 * Differences that stay are listed in test/modules/oracle/fleet-known-differences.yaml.
 *
 * Up to `pairs` cases run at once (one ansible-playbook and one plumb process for the batch, both
 * at the same time); the next batch runs on the same hosts after each is reset to the image.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { Fleet } from '../../fleet/fleet.js';
import { runCli } from '../../in-process.js';
import {
  ansibleCasePlaybook,
  ansibleEnv,
  ansibleOutcomes,
  type CaseResult,
  type CaseTask,
  describeDifference,
  hostOf,
  plumbCasePlaybook,
  plumbEnv,
  plumbOutcomes,
  readCaseFiles,
  type RunState,
  substitute,
} from './harness.js';

const here = fileURLToPath(new URL('.', import.meta.url));
export const fleetCasesDir = resolve(here, 'fleet-cases');
export const fleetKnownDifferencesFile = resolve(here, 'fleet-known-differences.yaml');

export interface FleetCase {
  /** "<module>/<name>", unique. */
  id: string;
  module: string;
  task: Record<string, unknown>;
  setup: string;
  observe: string;
  vars: Record<string, unknown>;
  files: Record<string, string>;
  gatherFacts: boolean;
}

const caseKeys = new Set(['name', 'task', 'setup', 'observe', 'vars', 'files', 'gather_facts']);

/** Every fleet case, or only those of `modules` when given. */
export function loadFleetCases(modules?: string[]): FleetCase[] {
  return readCaseFiles(fleetCasesDir, caseKeys, modules).map(({ file, id, module, raw }) => {
    if (typeof raw.observe !== 'string' || raw.observe.trim() === '') throw new Error(`${file}: case ${String(raw.name)}: needs an observe script`);
    return {
      id,
      module,
      task: raw.task as Record<string, unknown>,
      setup: typeof raw.setup === 'string' ? raw.setup : '',
      observe: raw.observe,
      vars: (raw.vars ?? {}) as Record<string, unknown>,
      files: (raw.files ?? {}) as Record<string, string>,
      gatherFacts: raw.gather_facts === true,
    };
  });
}

interface Pair {
  ansible: Fleet['hosts'][number];
  plumb: Fleet['hosts'][number];
}

/** Host i of a batch: hosts 2i (Ansible's) and 2i+1 (plumb's) of the fleet. */
function pairsOf(fleet: Fleet): Pair[] {
  const out: Pair[] = [];
  for (let i = 0; i + 1 < fleet.hosts.length; i += 2) out.push({ ansible: fleet.hosts[i], plumb: fleet.hosts[i + 1] });
  return out;
}

function caseTasks(cases: FleetCase[]): CaseTask[] {
  return cases.map((c, i) => ({ id: c.id, host: hostOf(i), task: substitute(c.task, '', `files-${hostOf(i)}`) as object, vars: c.vars, gatherFacts: c.gatherFacts }));
}

function writeWork(work: string, fleet: Fleet, cases: FleetCase[], hosts: Array<Fleet['hosts'][number]>, tool: 'ansible' | 'plumb'): void {
  mkdirSync(work, { recursive: true });
  const tasks = caseTasks(cases);
  writeFileSync(join(work, 'play.yml'), tool === 'ansible' ? ansibleCasePlaybook(tasks, work) : plumbCasePlaybook(tasks));
  if (tool === 'ansible') {
    const ssh = `-o UserKnownHostsFile=${fleet.knownHostsPath} -o StrictHostKeyChecking=yes`;
    const line = (i: number) =>
      `${hostOf(i)} ansible_host=${hosts[i].address} ansible_user=root ansible_ssh_private_key_file=${fleet.identityPath} ansible_python_interpreter=/usr/bin/python3 ansible_ssh_common_args='${ssh}'\n`;
    writeFileSync(join(work, 'hosts.ini'), cases.map((_, i) => line(i)).join(''));
  } else {
    const inv = { all: { hosts: Object.fromEntries(cases.map((_, i) => [hostOf(i), { host: hosts[i].address, port: 22, user: 'root', identity_file: fleet.identityPath }])) } };
    writeFileSync(join(work, 'hosts.yaml'), stringify(inv));
  }
  cases.forEach((c, i) => {
    for (const [name, text] of Object.entries(c.files)) {
      const path = join(work, `files-${hostOf(i)}`, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
  });
}

function runAnsible(work: string, forks: number): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn('ansible-playbook', ['-i', 'hosts.ini', '-f', String(forks), 'play.yml'], { cwd: work, env: ansibleEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.resume();
    child.on('error', fail);
    child.on('close', () => done(stdout));
  });
}

async function runPlumb(work: string, fleet: Fleet, forks: number): Promise<string> {
  const r = await runCli(['apply', join(work, 'play.yml'), '-i', join(work, 'hosts.yaml'), '--known-hosts', fleet.knownHostsPath, '--forks', String(forks)], plumbEnv);
  return r.stdout;
}

/** plumb refuses a whole playbook at validate if any case uses what it lacks: find those cases, one validate each. */
async function refusedByPlumb(work: string, cases: FleetCase[]): Promise<Set<number>> {
  const validate = (file: string) => runCli(['validate', file, '-i', join(work, 'hosts.yaml')], plumbEnv);
  if ((await validate(join(work, 'play.yml'))).code === 0) return new Set();
  const refused = new Set<number>();
  const tasks = caseTasks(cases);
  for (let i = 0; i < cases.length; i++) {
    const file = join(work, `validate-${hostOf(i)}.yml`);
    writeFileSync(file, plumbCasePlaybook([tasks[i]]));
    if ((await validate(file)).code !== 0) refused.add(i);
  }
  return refused;
}

async function observe(fleet: Fleet, host: Fleet['hosts'][number], script: string): Promise<string[]> {
  const r = await fleet.exec(host.name, script);
  const text = r.stdout.split(host.address).join('@ADDR@').split(host.name).join('@HOST@');
  return [...text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1), ...(r.code === 0 ? [] : [`exit=${r.code}`])];
}

async function setUp(fleet: Fleet, host: Fleet['hosts'][number], c: FleetCase): Promise<void> {
  if (!c.setup) return;
  const r = await fleet.exec(host.name, c.setup);
  if (r.code !== 0) throw new Error(`${c.id}: setup failed on ${host.name} (exit ${r.code}): ${r.stderr}`);
}

export interface FleetCompareOptions {
  /** Called with progress lines (batch n of m, timings). */
  log?: (line: string) => void;
}

/** Run every case under both tools (twice each) on the fleet's host pairs, batch by batch, and compare. */
export async function compareOnFleet(fleet: Fleet, cases: FleetCase[], opts: FleetCompareOptions = {}): Promise<Array<CaseResult<FleetCase>>> {
  const pairs = pairsOf(fleet);
  if (pairs.length === 0) throw new Error('the fleet needs at least two hosts');
  const root = mkdtempSync(join(tmpdir(), 'plumb-fleet-oracle-'));
  const results: Array<CaseResult<FleetCase>> = [];
  try {
    for (let first = 0; first < cases.length; first += pairs.length) {
      const batch = cases.slice(first, first + pairs.length);
      const used = pairs.slice(0, batch.length);
      const t0 = Date.now();
      if (first > 0) await Promise.all(used.flatMap((p) => [fleet.reset(p.ansible.name), fleet.reset(p.plumb.name)]));
      await Promise.all(batch.flatMap((c, i) => [setUp(fleet, used[i].ansible, c), setUp(fleet, used[i].plumb, c)]));
      const aWork = join(root, `ansible-${first}`);
      const pWork = join(root, `plumb-${first}`);
      writeWork(
        aWork,
        fleet,
        batch,
        used.map((p) => p.ansible),
        'ansible',
      );
      writeWork(
        pWork,
        fleet,
        batch,
        used.map((p) => p.plumb),
        'plumb',
      );
      const refused = await refusedByPlumb(pWork, batch);
      if (refused.size) writeFileSync(join(pWork, 'play.yml'), plumbCasePlaybook(caseTasks(batch).filter((_, i) => !refused.has(i))));
      const states = { ansible: [] as RunState[][], plumb: [] as RunState[][] };
      for (let run = 0; run < 2; run++) {
        const [aOut, pOut] = await Promise.all([runAnsible(aWork, batch.length), refused.size === batch.length ? Promise.resolve('') : runPlumb(pWork, fleet, batch.length)]);
        const aOutcomes = ansibleOutcomes(aOut, batch.length);
        const pOutcomes = plumbOutcomes(pOut, batch.length, refused);
        states.ansible.push(await Promise.all(batch.map(async (c, i) => ({ outcome: aOutcomes[i], tree: await observe(fleet, used[i].ansible, c.observe) }))));
        states.plumb.push(await Promise.all(batch.map(async (c, i) => ({ outcome: pOutcomes[i], tree: await observe(fleet, used[i].plumb, c.observe) }))));
      }
      batch.forEach((c, i) => {
        const ansible: [RunState, RunState] = [states.ansible[0][i], states.ansible[1][i]];
        const plumb: [RunState, RunState] = [states.plumb[0][i], states.plumb[1][i]];
        const difference = describeDifference(ansible, plumb);
        results.push({ case: c, ansible, plumb, agree: difference === '', difference });
      });
      opts.log?.(`fleet oracle: cases ${first + 1}-${first + batch.length} of ${cases.length} in ${Math.round((Date.now() - t0) / 1000)} s`);
    }
    return results;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
