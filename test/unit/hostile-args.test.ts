/**
 * Issue 10, class 1: a value that arrives through a variable must pass exactly
 * the rule a literal passes, and plan must never execute anything an argument
 * chose. Every module gets hostile values (option-like, path traversal, shell
 * syntax, control characters, very long, look-alikes) through every source of
 * variables (env.X, -e, inventory host and group vars, play vars, a variable
 * built from another), and each must be:
 *  - reported by validate's render pass (the same pass plan and apply run
 *    before contacting any host) at the argument's position, naming the task,
 *    the argument and the variable(s) it came from;
 *  - refused by the engine's own per-host preparation before any probe is sent.
 * Driven through the real code: project loading, checkRendering, planTasks on
 * a real local transport that only counts what it is asked to run.
 */
import { pendingKeys } from '../../src/engine/pending.js';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { run as cli } from '../../src/cli/main.js';
import { checkRendering } from '../../src/config/check.js';
import type { Diagnostic } from '../../src/source/diagnostics.js';
import { hostScope } from '../../src/config/hostvars.js';
import { loadProject, type Project } from '../../src/config/project.js';
import { moduleContext } from '../../src/engine/context.js';
import { planTasks } from '../../src/engine/planner.js';
import { TaskPrepareError } from '../../src/engine/prepare.js';
import { run as runEngine } from '../../src/engine/run.js';
import type { HostPlan, HostResult, Reporter } from '../../src/engine/types.js';
import { apt } from '../../src/modules/apt.js';
import { shell } from '../../src/modules/shell.js';
import { postconf } from '../../src/modules/postconf.js';
import type { ModuleContext } from '../../src/modules/types.js';
import { planFrom } from '../modules/context.js';
import { LocalTransport } from '../../src/transport/local.js';
import type { ExecOptions, Transport, WriteFileOptions } from '../../src/transport/types.js';

let root: string;
let seq = 0;
/** Where payloads try to leave their mark. */
let marker: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'plumb-hostile-'));
  marker = join(root, 'pwned');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Source = 'env' | 'extra' | 'host' | 'group' | 'play' | 'derived';
const SOURCES: Source[] = ['env', 'extra', 'host', 'group', 'play', 'derived'];

/** The template a task uses for each source, and the variables the error must name. */
function reference(source: Source): { ref: string; names: string[] } {
  if (source === 'env') return { ref: '{{ env.HOSTILE }}', names: ['env.HOSTILE'] };
  if (source === 'derived') return { ref: '{{ v }}', names: ['v', 'base'] };
  return { ref: '{{ v }}', names: ['v'] };
}

interface Setup {
  dir: string;
  playbook: string;
  inventory: string;
  extraVars: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
}

/** A project whose only task carries `ref`, with `value` placed in `source`. */
function setup(task: Record<string, unknown>, source: Source, value: unknown, extra: { secrets?: Record<string, string>; env?: NodeJS.ProcessEnv } = {}): Setup {
  const dir = join(root, `case-${++seq}`);
  mkdirSync(join(dir, 'files'), { recursive: true });
  writeFileSync(join(dir, 'files', 't.j2'), 'hello\n');
  const hostVars: Record<string, unknown> = { connection: 'local' };
  const groupVars: Record<string, unknown> = {};
  const playVars: Record<string, unknown> = {};
  const extraVars: Record<string, unknown> = {};
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, PLUMB_STATE_DIR: join(dir, 'state'), ...extra.env };
  if (source === 'env') env.HOSTILE = value as string;
  if (source === 'extra') extraVars.v = value;
  if (source === 'host') hostVars.v = value;
  if (source === 'group') groupVars.v = value;
  if (source === 'play') playVars.v = value;
  if (source === 'derived') {
    playVars.v = '{{ base }}';
    groupVars.base = value;
  }
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(inventory, stringify({ all: { children: { g: { hosts: { here: hostVars }, vars: groupVars } } } }));
  const play: Record<string, unknown> = { name: 'hostile', hosts: 'all' };
  if (Object.keys(playVars).length) play.vars = playVars;
  if (extra.secrets) play.secrets = extra.secrets;
  play.tasks = [task];
  const playbook = join(dir, 'site.yaml');
  writeFileSync(playbook, stringify([play], { lineWidth: 0 }));
  return { dir, playbook, inventory, extraVars, env };
}

async function load(s: Setup): Promise<Project> {
  return loadProject({ playbookPath: s.playbook, inventoryPath: s.inventory, extraVars: s.extraVars });
}

/** A real local transport that records every command and write it is asked for. */
class Counting implements Transport {
  readonly calls: string[] = [];
  private readonly inner = new LocalTransport('here', 30_000, async () => undefined);
  readonly host = 'here';
  exec(command: string, options?: ExecOptions) {
    this.calls.push(command);
    return this.inner.exec(command, options);
  }
  writeFile(path: string, content: Buffer | string, options?: WriteFileOptions) {
    this.calls.push(`write ${path}`);
    return this.inner.writeFile(path, content, options);
  }
  close() {
    return this.inner.close();
  }
}

/** The engine's own per-host preparation (plan and apply both start here). */
async function planOnHost(project: Project, s: Setup): Promise<{ error: unknown; calls: string[] }> {
  const play = project.playbook.plays[0];
  const scope = hostScope(project, play, project.inventory.hosts.get('here')!, s.env);
  const ctx = moduleContext(scope, s.dir);
  const transport = new Counting();
  try {
    await planTasks({ transport, play, scope, ctx, pending: pendingKeys(project.playbook, play) });
    return { error: undefined, calls: transport.calls };
  } catch (error) {
    return { error, calls: transport.calls };
  } finally {
    await transport.close();
  }
}

function errorsOf(project: Project, s: Setup): Diagnostic[] {
  return checkRendering(project, () => ['here'], s.env).diagnostics.filter((d) => d.severity === 'error');
}

/** The 1-based line of the task's template in the playbook file. */
function templateLine(s: Setup, ref: string): number {
  const lines = readFileSync(s.playbook, 'utf8').split('\n');
  const tasks = lines.findIndex((l) => /^\s*tasks:/.test(l));
  return lines.findIndex((l, i) => i > tasks && l.includes(ref)) + 1;
}

const fromNames = (names: string[]) => `from variable${names.length > 1 ? 's' : ''} ${names.join(', ')}`;

interface Hostile {
  /** What the case is about, for the test title. */
  what: string;
  /** The task, given the template reference to put in the hostile argument. */
  task: (ref: string) => Record<string, unknown>;
  /** The argument as the error names it, e.g. apt.name[1]. */
  arg: string;
  /** YAML path of the argument under the task, for the diagnostic path. */
  value: string;
  reason: RegExp;
  /** Sources this value cannot travel through (an environment variable cannot hold NUL). */
  not?: Source[];
}

const name = 'hostile task';
const aptTask = (ref: string) => ({ name, apt: { name: ['postfix', ref] } });
const serviceTask = (ref: string) => ({ name, service: { name: ref, state: 'started' } });
const copyDest = (ref: string) => ({ name, copy: { dest: ref, content: 'x\n' } });
const templateDest = (ref: string) => ({ name, template: { src: 'files/t.j2', dest: ref } });
const filePath = (ref: string) => ({ name, file: { path: ref, state: 'touch' } });
const lineinfilePath = (ref: string) => ({ name, lineinfile: { path: ref, line: 'x', create: true } });

const PKG = /is not a Debian package name/;
const UNIT = /is not a service name/;
const OWNER = /is not a user or group name/;
const ABSOLUTE = /is not an absolute path/;
const TILDE = /is not an absolute path: plumb does not expand ~/;
const NUL = /contains a NUL byte/;
const NEWLINE = /contains a newline/;

function cases(): Hostile[] {
  const m = marker;
  const long = 'a'.repeat(5000);
  return [
    // apt: a name that starts with - is an apt option, run as root at apply.
    { what: 'apt option', task: aptTask, arg: 'apt.name[1]', value: `-oDPkg::Pre-Invoke::=touch ${m}`, reason: PKG },
    {
      what: 'apt option hidden behind {{',
      task: aptTask,
      arg: 'apt.name[1]',
      value: `-oDPkg::Pre-Invoke::=touch ${m} #{{`,
      reason: PKG,
      not: ['extra', 'host', 'group', 'play', 'derived'],
    },
    { what: 'apt ../', task: aptTask, arg: 'apt.name[1]', value: '../../tmp/evil.deb', reason: PKG },
    { what: 'apt absolute .deb', task: aptTask, arg: 'apt.name[1]', value: '/tmp/evil.deb', reason: PKG },
    { what: 'apt ;', task: aptTask, arg: 'apt.name[1]', value: `postfix;touch ${m}`, reason: PKG },
    { what: 'apt $()', task: aptTask, arg: 'apt.name[1]', value: `$(touch ${m})`, reason: PKG },
    { what: 'apt backticks', task: aptTask, arg: 'apt.name[1]', value: `\`touch ${m}\``, reason: PKG },
    { what: 'apt newline', task: aptTask, arg: 'apt.name[1]', value: 'postfix\nsasl2-bin', reason: PKG },
    { what: 'apt NUL', task: aptTask, arg: 'apt.name[1]', value: 'post\0fix', reason: PKG, not: ['env', 'host', 'group', 'play', 'derived'] },
    { what: 'apt space', task: aptTask, arg: 'apt.name[1]', value: 'postfix sasl2-bin', reason: PKG },
    { what: 'apt = (wildcard version pin)', task: aptTask, arg: 'apt.name[1]', value: 'postfix=3.7*', reason: PKG },
    { what: 'apt = (option as version)', task: aptTask, arg: 'apt.name[1]', value: 'postfix=-oDPkg::Pre-Invoke::=id', reason: PKG },
    { what: 'apt very long option', task: aptTask, arg: 'apt.name[1]', value: `-${long}`, reason: PKG },
    { what: 'apt Cyrillic look-alike', task: aptTask, arg: 'apt.name[1]', value: 'p\u043estfix', reason: PKG },
    { what: 'apt uppercase', task: aptTask, arg: 'apt.name[1]', value: 'Postfix', reason: PKG },
    { what: 'apt one character', task: aptTask, arg: 'apt.name[1]', value: 'x', reason: PKG },
    // service: a name with / or .. makes the probe run a file outside /etc/init.d.
    { what: 'service ../', task: serviceTask, arg: 'service.name', value: '../../tmp/evil', reason: UNIT },
    { what: 'service ../ hidden behind {{', task: serviceTask, arg: 'service.name', value: '../../tmp/evil{{', reason: UNIT, not: ['extra', 'host', 'group', 'play', 'derived'] },
    { what: 'service absolute', task: serviceTask, arg: 'service.name', value: '/tmp/evil', reason: UNIT },
    { what: 'service leading -', task: serviceTask, arg: 'service.name', value: '--status-all', reason: UNIT },
    { what: 'service .', task: serviceTask, arg: 'service.name', value: '.', reason: UNIT },
    { what: 'service ..', task: serviceTask, arg: 'service.name', value: '..', reason: UNIT },
    { what: 'service hidden file', task: serviceTask, arg: 'service.name', value: '.depend.boot', reason: UNIT },
    { what: 'service ;', task: serviceTask, arg: 'service.name', value: `ssh;touch ${m}`, reason: UNIT },
    { what: 'service $()', task: serviceTask, arg: 'service.name', value: `$(touch ${m})`, reason: UNIT },
    { what: 'service backticks', task: serviceTask, arg: 'service.name', value: `\`touch ${m}\``, reason: UNIT },
    { what: 'service newline', task: serviceTask, arg: 'service.name', value: 'ssh\npostfix', reason: UNIT },
    { what: 'service NUL', task: serviceTask, arg: 'service.name', value: 'ssh\0x', reason: UNIT, not: ['env', 'host', 'group', 'play', 'derived'] },
    { what: 'service space', task: serviceTask, arg: 'service.name', value: 'ssh postfix', reason: UNIT },
    { what: 'service =', task: serviceTask, arg: 'service.name', value: 'A=B', reason: UNIT },
    { what: 'service very long', task: serviceTask, arg: 'service.name', value: 's'.repeat(300), reason: UNIT },
    { what: 'service division-slash look-alike', task: serviceTask, arg: 'service.name', value: '..\u2215..\u2215tmp\u2215evil', reason: UNIT },
    // Paths a module writes or removes must be absolute, clean, one line.
    { what: 'copy relative dest', task: copyDest, arg: 'copy.dest', value: 'etc/motd', reason: ABSOLUTE },
    { what: 'copy dest leading -', task: copyDest, arg: 'copy.dest', value: '-rf', reason: ABSOLUTE },
    { what: 'copy dest ..', task: copyDest, arg: 'copy.dest', value: '/var/www/../../etc/shadow', reason: /is not a normalized path/ },
    { what: 'copy dest newline', task: copyDest, arg: 'copy.dest', value: '/tmp/a\nb', reason: NEWLINE },
    { what: 'copy dest NUL', task: copyDest, arg: 'copy.dest', value: '/tmp/a\0b', reason: NUL, not: ['env', 'host', 'group', 'play', 'derived'] },
    { what: 'copy dest very long', task: copyDest, arg: 'copy.dest', value: `/${long}`, reason: /is longer than 4095 bytes/ },
    { what: 'template relative dest', task: templateDest, arg: 'template.dest', value: ' /etc/motd', reason: ABSOLUTE },
    { what: 'template dest ..', task: templateDest, arg: 'template.dest', value: '/etc/..', reason: /is not a normalized path/ },
    { what: 'file relative path', task: filePath, arg: 'file.path', value: `$(touch ${m})`, reason: ABSOLUTE },
    { what: 'file path ..', task: filePath, arg: 'file.path', value: '/tmp/../..', reason: /is not a normalized path/ },
    { what: 'file path newline', task: filePath, arg: 'file.path', value: '/tmp/x\n/etc/passwd', reason: NEWLINE },
    { what: 'lineinfile relative path', task: lineinfilePath, arg: 'lineinfile.path', value: '../etc/hosts', reason: ABSOLUTE },
    // ~ is expanded by Ansible on the host; plumb refuses it, from a variable as much as literally.
    { what: 'copy dest under ~', task: copyDest, arg: 'copy.dest', value: `~/$(touch ${m})`, reason: TILDE },
    { what: 'lineinfile path under ~user', task: lineinfilePath, arg: 'lineinfile.path', value: '~root/.ssh/authorized_keys', reason: TILDE },
    // owner/group: a user name or a numeric id, never an option or owner:group.
    {
      what: 'owner option',
      task: (r) => ({ name, copy: { dest: '/tmp/plumb-hostile-x', content: 'x', owner: r } }),
      arg: 'copy.owner',
      value: '--reference=/etc/shadow',
      reason: OWNER,
    },
    { what: 'owner with :', task: (r) => ({ name, copy: { dest: '/tmp/plumb-hostile-x', content: 'x', owner: r } }), arg: 'copy.owner', value: 'root:root', reason: OWNER },
    { what: 'owner with space', task: (r) => ({ name, file: { path: '/tmp', owner: r } }), arg: 'file.owner', value: 'root /etc/shadow', reason: OWNER },
    { what: 'owner ../', task: (r) => ({ name, file: { path: '/tmp', owner: r } }), arg: 'file.owner', value: '../root', reason: OWNER },
    { what: 'group $()', task: (r) => ({ name, file: { path: '/tmp', group: r } }), arg: 'file.group', value: `$(touch ${m})`, reason: OWNER },
    { what: 'group leading digit', task: (r) => ({ name, file: { path: '/tmp', group: r } }), arg: 'file.group', value: '0wheel', reason: OWNER },
    { what: 'group very long', task: (r) => ({ name, lineinfile: { path: '/tmp/x', line: 'x', group: r } }), arg: 'lineinfile.group', value: 'g'.repeat(40), reason: OWNER },
    { what: 'owner newline', task: (r) => ({ name, template: { src: 'files/t.j2', dest: '/tmp/x', owner: r } }), arg: 'template.owner', value: 'root\nx', reason: OWNER },
    {
      what: 'owner Cyrillic look-alike',
      task: (r) => ({ name, template: { src: 'files/t.j2', dest: '/tmp/x', owner: r } }),
      arg: 'template.owner',
      value: 'r\u043e\u043et',
      reason: OWNER,
    },
    // mode, regular expressions, lines.
    { what: 'mode option', task: (r) => ({ name, file: { path: '/tmp', mode: r } }), arg: 'file.mode', value: '-R', reason: /mode must be a quoted octal string/ },
    {
      // Symbolic modes are Ansible's (issue 15); one with anything else in it is still refused.
      what: 'mode symbolic with an option',
      task: (r) => ({ name, copy: { dest: '/tmp/x', content: 'x', mode: r } }),
      arg: 'copy.mode',
      value: 'u+s --reference=/etc/shadow',
      reason: /mode must be a quoted octal string/,
    },
    {
      what: 'lineinfile bad regexp',
      task: (r) => ({ name, lineinfile: { path: '/tmp/x', line: 'x', regexp: r } }),
      arg: 'lineinfile.regexp',
      value: '(unclosed',
      reason: /is not a valid regular expression/,
    },
    {
      what: 'lineinfile bad insertafter',
      task: (r) => ({ name, lineinfile: { path: '/tmp/x', line: 'x', insertafter: r } }),
      arg: 'lineinfile.insertafter',
      value: '[z-a]',
      reason: /is not a valid regular expression/,
    },
    {
      what: 'lineinfile line with newline',
      task: (r) => ({ name, lineinfile: { path: '/tmp/x', line: r } }),
      arg: 'lineinfile.line',
      value: 'x\nroot::0:0::/:/bin/sh',
      reason: /single line/,
    },
    // postconf: one line a postconf -e can store as given.
    { what: 'postconf newline', task: (r) => ({ name, postconf: { relayhost: r } }), arg: 'postconf.relayhost', value: '[smtp]:587\ninet_interfaces = all', reason: /single line/ },
    {
      what: 'postconf NUL',
      task: (r) => ({ name, postconf: { relayhost: r } }),
      arg: 'postconf.relayhost',
      value: 'a\0b',
      reason: NUL,
      not: ['env', 'host', 'group', 'play', 'derived'],
    },
    { what: 'postconf leading space', task: (r) => ({ name, postconf: { relayhost: r } }), arg: 'postconf.relayhost', value: ' -e', reason: /cannot start or end with whitespace/ },
    // command/shell: what they run is theirs, but a value that cannot be passed at all is refused up front.
    { what: 'command cmd NUL', task: (r) => ({ name, command: { cmd: r } }), arg: 'command.cmd', value: 'ls\0-la', reason: NUL, not: ['env', 'host', 'group', 'play', 'derived'] },
    {
      what: 'command argv NUL',
      task: (r) => ({ name, command: { argv: ['ls', r] } }),
      arg: 'command.argv[1]',
      value: '/\0',
      reason: NUL,
      not: ['env', 'host', 'group', 'play', 'derived'],
    },
    { what: 'command creates newline', task: (r) => ({ name, command: { cmd: 'true', creates: r } }), arg: 'command.creates', value: `/tmp/x\ntouch ${m}`, reason: NEWLINE },
    {
      what: 'command removes NUL',
      task: (r) => ({ name, command: { cmd: 'true', removes: r } }),
      arg: 'command.removes',
      value: '/tmp\0',
      reason: NUL,
      not: ['env', 'host', 'group', 'play', 'derived'],
    },
    { what: 'command chdir newline', task: (r) => ({ name, command: { cmd: 'true', chdir: r } }), arg: 'command.chdir', value: '/tmp\n/', reason: NEWLINE },
    { what: 'shell cmd NUL', task: (r) => ({ name, shell: { cmd: r } }), arg: 'shell.cmd', value: 'echo\0', reason: NUL, not: ['env', 'host', 'group', 'play', 'derived'] },
    { what: 'shell creates newline', task: (r) => ({ name, shell: { cmd: 'true', creates: r } }), arg: 'shell.creates', value: 'a\nb', reason: NEWLINE },
  ];
}

/** Each case through a source it can travel by, rotating so every module meets every source. */
function withSources(list: Hostile[]): Array<[string, Hostile, Source]> {
  return list.map((c, i) => {
    let k = i;
    while (c.not?.includes(SOURCES[k % SOURCES.length])) k++;
    const source = SOURCES[k % SOURCES.length];
    return [`${c.what} via ${source}`, c, source];
  });
}

describe('hostile values from variables: validate reports them, plan and apply refuse them before any probe', () => {
  it.each(withSources(cases()))('%s', async (_title, c, source) => {
    const { ref, names } = reference(source);
    const s = setup(c.task(ref), source, c.value);
    const project = await load(s); // a template is checked once rendered, never at load

    const errors = errorsOf(project, s);
    expect(errors, JSON.stringify(errors)).toHaveLength(1);
    const [d] = errors;
    expect(d.file).toBe(s.playbook);
    expect(d.line).toBe(templateLine(s, ref));
    expect(d.path).toBe(`plays[0].tasks[0].${c.arg}`);
    expect(d.message).toContain(`once rendered for host here: task "${name}": ${c.arg} = `);
    expect(d.message).toMatch(c.reason);
    expect(d.message.endsWith(fromNames(names)), d.message).toBe(true);
    // Control characters are shown escaped, never raw.
    expect(d.message).not.toMatch(/[\0\n]/);

    const { error, calls } = await planOnHost(project, s);
    expect(error).toBeInstanceOf(TaskPrepareError);
    const message = (error as Error).message;
    expect(message.startsWith(`task "${name}": ${c.arg} = `), message).toBe(true);
    expect(message).toMatch(c.reason);
    expect(message.endsWith(fromNames(names)), message).toBe(true);
    expect(calls).toEqual([]); // not even the probe script
    expect(existsSync(marker)).toBe(false);
  });

  it('covers every module and every source', () => {
    const list = withSources(cases());
    const modules = new Set(list.map(([, c]) => c.arg.split(/[.[]/)[0]));
    expect([...modules].sort()).toEqual(['apt', 'command', 'copy', 'file', 'lineinfile', 'postconf', 'service', 'shell', 'template']);
    expect(new Set(list.map(([, , s]) => s))).toEqual(new Set(SOURCES));
    expect(list.length).toBeGreaterThanOrEqual(40);
  });
});

describe('secrets, literals and guards', () => {
  it('a rejected value computed from a secret is never shown, only named', async () => {
    const s = setup({ name, apt: { name: '{{ token | upper }}' } }, 'extra', 'unused', {
      secrets: { token: '{{ env.TOKEN }}' },
      env: { TOKEN: '-oapt::x=hunter2-secret' },
    });
    const project = await load(s);
    const [d] = errorsOf(project, s);
    expect(d.message).toContain(`task "${name}": apt.name = (secret) is not a Debian package name`);
    expect(d.message).toMatch(/from variables? token/);
    expect(d.message.toLowerCase()).not.toContain('hunter2');
    const { error, calls } = await planOnHost(project, s);
    expect((error as Error).message).toContain('apt.name = (secret)');
    expect((error as Error).message.toLowerCase()).not.toContain('hunter2');
    expect(calls).toEqual([]);
  });

  it('a hostile literal is reported at load, without rendering', async () => {
    const s = setup({ name, apt: { name: '-oDPkg::Pre-Invoke::=true' } }, 'extra', 'unused');
    await expect(load(s)).rejects.toThrow(/apt\.name: not a Debian package name/);
    const t = setup({ name, service: { name: '../../tmp/evil', state: 'started' } }, 'extra', 'unused');
    await expect(load(t)).rejects.toThrow(/service\.name: not a service name/);
  });

  it('a whole free-form command from a variable is checked once rendered', async () => {
    const s = setup({ name, command: '{{ v }}' }, 'extra', 'ls\0x');
    const project = await load(s);
    const [d] = errorsOf(project, s);
    expect(d.message).toMatch(/task "hostile task": command\.cmd = "ls\\u0000x" contains a NUL byte, from variable v$/);
  });

  it.each(['command', 'shell'])('%s: a templated `unless` is refused at load (plan would run what a variable says)', async (module) => {
    const s = setup({ name, [module]: { cmd: 'true', unless: 'test -e {{ v }}' } }, 'extra', '/x');
    const err = await load(s).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeDefined();
    const text = String((err as { diagnostics?: Diagnostic[] }).diagnostics?.map((d) => `${d.path}: ${d.message}`).join('\n') ?? (err as Error).message);
    expect(text).toMatch(new RegExp(`plays\\[0\\]\\.tasks\\[0\\]\\.${module}\\.unless: .*written literally`));
    expect(text).toMatch(/creates/);
    // A literal unless and templated creates/removes stay fine.
    const ok = setup({ name, [module]: { cmd: 'true', unless: 'test -e /x', creates: '{{ v }}', removes: '/{{ v }}' } }, 'extra', '/x');
    await expect(load(ok)).resolves.toBeDefined();
  });

  it('validate (the CLI) prints the position, the task, the argument and the variable', async () => {
    const s = setup(serviceTask('{{ svc }}'), 'extra', 'unused');
    let stderr = '';
    const code = await cli(['validate', s.playbook, '-i', s.inventory, '-e', 'svc=../../tmp/evil'], { stdout: () => {}, stderr: (t) => (stderr += t + '\n'), env: s.env });
    expect(code).toBe(1);
    expect(stderr).toContain(`${s.playbook}:${templateLine(s, '{{ svc }}')}:`);
    expect(stderr).toContain('plays[0].tasks[0].service.name: once rendered for host here: task "hostile task": service.name = "../../tmp/evil" is not a service name');
    expect(stderr).toContain('from variable svc');
  });
});

/** Reporter that keeps what the engine reports. */
function collecting(): Reporter & { plans: HostPlan[]; done: HostResult[] } {
  const plans: HostPlan[] = [];
  const done: HostResult[] = [];
  return {
    plans,
    done,
    playStart() {},
    hostActivity() {},
    taskDone() {},
    hostPlanned: (p) => void plans.push(p),
    hostDone: (r) => void done.push(r),
    notice() {},
    close: async () => {},
  };
}

describe('the engine run itself (what a saved plan or any caller without validate gets)', () => {
  it.each(['plan', 'apply'] as const)('%s: the host fails on the task, naming it; the payload never runs', async (mode) => {
    // The attack of the issue: plan executes /etc/init.d/../../<dir>/evil{{ when a service name can be a path.
    const dir = join(root, `evil-${mode}`);
    mkdirSync(dir, { recursive: true });
    const evil = join(dir, 'evil{{');
    writeFileSync(evil, `#!/bin/sh\ntouch ${marker}\n`);
    chmodSync(evil, 0o755);
    const svc = `../..${evil}`;
    const s = setup({ name: 'Start it', service: { name: '{{ env.HOSTILE }}', state: 'started' } }, 'env', svc);
    const project = await load(s);
    const reporter = collecting();
    const result = await runEngine(project, { mode, forks: 1, transport: {}, reporter, env: s.env });
    expect(existsSync(marker)).toBe(false);
    const [row] = result.results;
    expect(row.status).toBe('failed');
    expect(row.failed).toBe(1);
    expect(row.tasks).toEqual([expect.objectContaining({ name: 'Start it', status: 'failed' })]);
    expect(row.error).toMatch(/^task "Start it": service\.name = ".*" is not a service name .*, from variable env\.HOSTILE$/);
    expect(reporter.plans[0].status).toBe('failed');
    expect(reporter.plans[0].error).toBe(row.error);
  });

  it('apply: a handler whose arguments fail is refused before the first task runs', async () => {
    const touched = join(root, 'first-task-ran');
    const s = setup({ name: 'first', copy: { dest: touched, content: 'x\n' }, notify: 'restart' }, 'extra', '-x');
    // Rewrite with a handler that reads the hostile variable.
    const pb = [
      {
        name: 'hostile',
        hosts: 'all',
        tasks: [{ name: 'first', copy: { dest: touched, content: 'x\n' }, notify: 'restart' }],
        handlers: [{ name: 'restart', service: { name: '{{ v }}', state: 'restarted' } }],
      },
    ];
    writeFileSync(s.playbook, stringify(pb));
    const project = await load(s);
    const result = await runEngine(project, { mode: 'apply', forks: 1, transport: {}, reporter: collecting(), env: s.env });
    expect(existsSync(touched)).toBe(false);
    expect(result.results[0].status).toBe('failed');
    expect(result.results[0].error).toMatch(/^task "restart": service\.name = "-x" is not a service name .*, from variable v$/);
  });
});

describe('every command that takes names or paths ends its options first', () => {
  const ctx: ModuleContext = {
    redact: (t) => t,
    hasSecret: () => false,
    readLocal: () => Buffer.alloc(0),
    render: (t) => t,
    renderTemplate: (t) => t,
    condition: () => true,
    value: () => ({ defined: false }),
  };
  it('apt-get install, reinstall and remove put -- before the package names', () => {
    const facts = {
      status: { postfix: { status: 'installed', version: '1' }, 'sasl2-bin': { status: null, version: null } },
      verify: { postfix: [{ path: '/usr/sbin/postfix', issue: 'missing' as const, conffile: false }] },
    };
    const { steps } = planFrom(apt, { name: ['postfix', 'sasl2-bin'], verify: true }, facts, ctx);
    expect(steps.map((s) => (s.kind === 'exec' ? s.command : '')).join('\n')).toMatch(/ install -- sasl2-bin\n.* install --reinstall -- postfix$/);
    const removal = planFrom(apt, { name: 'postfix', state: 'absent' }, facts, ctx).steps;
    expect(removal[0].kind === 'exec' && removal[0].command).toMatch(/ remove -- postfix$/);
  });

  it('postconf -h and -e, and sh -c, end their options', () => {
    const args = postconf.schema.parse({ relayhost: '[smtp]:587' });
    const { conf } = postconf.facts(args, ctx);
    expect(conf.fact.probe(conf.params)).toMatch(/postconf -h -- relayhost/);
    const { steps } = planFrom(postconf, args, { conf: { values: { relayhost: '' } } }, ctx);
    expect(steps[0].kind === 'exec' && steps[0].command).toMatch(/postconf -e -- 'relayhost=\[smtp\]:587'$/);
    const run = planFrom(shell, { cmd: '-x' }, {}, ctx).steps;
    expect(run[0].kind === 'exec' && run[0].command).toBe('/bin/sh -c -- -x');
  });
});

describe('plan runs only fixed, read-only probes: a value that passes its rule still only names things', () => {
  // Values that are valid (absolute paths, names) yet full of shell syntax, from -e; the probes run for real here.
  const nasty = (m: string) => [`$(touch ${m})`, `\`touch ${m}\``, `x;touch ${m}`, `x'; touch ${m}; '`, `x" && touch ${m} && "`];
  type Probe = [what: string, task: (ref: string) => Record<string, unknown>, value: string];
  const probes = (m: string, dir: string): Probe[] => [
    ...nasty(m).map((n, i): Probe => [`file path #${i}`, (r) => ({ file: { path: r, state: 'touch' } }), `${dir}/${n}`]),
    ...nasty(m).map((n, i): Probe => [`copy dest #${i}`, (r) => ({ copy: { dest: r, content: 'x\n' } }), `${dir}/${n}`]),
    ['lineinfile path', (r) => ({ lineinfile: { path: r, line: 'x', create: true } }), `${dir}/$(touch ${m})`],
    ['command creates', (r) => ({ command: { cmd: 'true', creates: r } }), `$(touch ${m})`],
    ['command removes', (r) => ({ command: { cmd: 'true', removes: r } }), `\`touch ${m}\``],
    ['shell chdir', (r) => ({ shell: { cmd: 'true', chdir: r, creates: 'x' } }), `;touch ${m}`],
    ['postconf value', (r) => ({ postconf: { relayhost: r } }), `$(touch ${m})`],
    ['service name with : and backslash', (r) => ({ service: { name: r, state: 'started' } }), 'x:y\\z'],
  ];

  it.each(probes('MARK', 'DIR').map(([what]) => what))('%s', async (what) => {
    const dir = join(root, `probe-${++seq}`);
    mkdirSync(dir, { recursive: true });
    const mark = join(dir, 'ran');
    const [, task, value] = probes(mark, dir).find(([w]) => w === what)!;
    const s = setup({ name, ...task('{{ v }}') }, 'extra', value);
    const project = await load(s);
    expect(errorsOf(project, s)).toEqual([]);
    const { error, calls } = await planOnHost(project, s);
    expect(error).toBeUndefined();
    expect(calls.length).toBeGreaterThan(0); // the probe did run on this machine
    expect(existsSync(mark)).toBe(false);
  });
});
