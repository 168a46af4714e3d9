/**
 * wait_for: waits for a path to appear or go, or a TCP port on the host to listen or stop.
 * Its check is read-only and rides in the one probe batch: the path's stat (and content, for
 * search_regex), or the host's listening sockets from /proc/net/tcp{,6}. Already satisfied: ok,
 * nothing runs at apply. Not yet: apply polls with POSIX sh on the host (`sleep` between tries)
 * until `timeout`, then fails with Ansible's message. Either way the task reports ok, never
 * changed, as Ansible's does; the plan shows "will wait" without counting it as a change.
 *
 * plumb does not connect anywhere: a port is checked in the host's own table of listening
 * sockets, so `host` must name the host itself (127.0.0.1, localhost, ::1, 0.0.0.0, ::).
 */
import { z } from 'zod';
import { listeningFact, type Listener, type Listening } from '../facts/listening.js';
import { type StatState, statFact } from '../facts/stat.js';
import { fileFact, type FileState } from '../facts/file.js';
import { quote } from '../quote.js';
import { pathSchema } from './common.js';
import { pyRegExp, pyRegexProblem } from './pyre.js';
import { defineModule, type FactValues, known, type Planned, UnknownState } from './types.js';

/** The addresses that name the host itself, as wait_for's `host`. */
const LOCAL_HOSTS = ['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'];

/** A file read for search_regex is fetched up to this many bytes. */
export const SEARCH_LIMIT = 1024 * 1024;

/**
 * A search_regex the poll at apply can hand to `grep -E` with Python's meaning: no backslash
 * before a letter or digit (\d, \w, \b, \1 differ or do not exist in ERE), no (?...) groups,
 * no backslash inside a bracket expression.
 */
function ereProblem(regex: string): string | undefined {
  if (/\\[A-Za-z0-9]/.test(regex))
    return 'search_regex may not use \\d, \\w, \\s, \\b or other backslash-letter escapes in plumb (the host polls with grep -E): write [0-9], [A-Za-z0-9_], [[:space:]] instead';
  if (regex.includes('(?')) return 'search_regex may not use (?...) groups in plumb (the host polls with grep -E)';
  if (/\[[^\]]*\\/.test(regex)) return 'search_regex may not use a backslash inside [...] in plumb (the host polls with grep -E)';
  if (regex.includes('\n')) return 'search_regex may not contain a newline';
  return pyRegexProblem(regex, { multiline: true });
}

export const waitForArgs = z
  .strictObject({
    host: z
      .string()
      .default('127.0.0.1')
      .describe(`the host whose port to check: only the host itself (${LOCAL_HOSTS.join(', ')})`),
    port: z.coerce.number().int().min(1).max(65535).optional().describe('a TCP port on the host to wait for'),
    path: pathSchema.optional().describe('a path on the host to wait for'),
    state: z.enum(['started', 'stopped', 'present', 'absent']).default('started').describe('started/present: listening or existing; stopped/absent: not'),
    search_regex: z.string().min(1).optional().describe('with path: wait until the file contains a match (Python regex, multiline; a subset grep -E reads alike)'),
    timeout: z.coerce.number().int().min(0).default(300).describe('seconds to wait before failing'),
    delay: z.coerce.number().int().min(0).default(0).describe('seconds to sleep before the first poll at apply'),
    sleep: z.coerce.number().int().min(1).default(1).describe('seconds between polls at apply'),
    msg: z.string().optional().describe('the failure message instead of the default one'),
  })
  .superRefine((a, ctx) => {
    const issue = (message: string, path?: string) => ctx.addIssue({ code: 'custom', message, ...(path ? { path: [path] } : {}) });
    if (a.port !== undefined && a.path !== undefined) issue('port and path parameter can not both be passed to wait_for');
    if (a.port === undefined && a.path === undefined) issue('wait_for needs `port` or `path` in plumb (a wait without them only sleeps: use pause)');
    if (a.path !== undefined && a.state === 'stopped') issue('state=stopped should only be used for checking a port in the wait_for module', 'state');
    if (a.port !== undefined && !LOCAL_HOSTS.includes(a.host))
      issue(`plumb checks a port in the host's own table of listening sockets and connects nowhere: host must be one of ${LOCAL_HOSTS.join(', ')}`, 'host');
    if (a.search_regex !== undefined) {
      if (a.path === undefined) issue('search_regex on a port needs a connection, which plumb does not make: use it with path', 'search_regex');
      else if (a.state === 'absent') issue('search_regex is for state present/started', 'search_regex');
      const problem = ereProblem(a.search_regex);
      if (problem) issue(problem, 'search_regex');
    }
  });

export type WaitForArgs = z.output<typeof waitForArgs>;

type Facts = { path?: StatState; content?: FileState; ports?: Listening };

const wantsPresent = (a: WaitForArgs) => a.state === 'started' || a.state === 'present';

/** Whether a listener answers a connection to `host`: the wildcard, or the loopback address of the family. */
function answers(l: Listener, host: string, port: number): boolean {
  if (l.port !== port) return false;
  const v4 = host === '127.0.0.1' || host === 'localhost' || host === '0.0.0.0';
  if (v4) return l.address === '0.0.0.0' || l.address.startsWith('127.') || l.address === '::' || l.address.startsWith('::ffff:127.');
  return l.address === '::' || l.address === '::1';
}

function what(a: WaitForArgs): string {
  if (a.port !== undefined) return `${a.host}:${a.port} to ${wantsPresent(a) ? 'listen' : 'stop listening'}`;
  if (a.search_regex !== undefined) return `${a.path} to contain ${a.search_regex}`;
  return `${a.path} to be ${wantsPresent(a) ? 'present' : 'absent'}`;
}

/** Ansible's messages on timeout. */
function timeoutMessage(a: WaitForArgs): string {
  if (a.msg !== undefined) return a.msg;
  if (a.port !== undefined) return wantsPresent(a) ? `Timeout when waiting for ${a.host}:${a.port}` : `Timeout when waiting for ${a.host}:${a.port} to stop.`;
  if (!wantsPresent(a)) return `Timeout when waiting for ${a.path} to be absent.`;
  if (a.search_regex !== undefined) return `Timeout when waiting for search string ${a.search_regex} in ${a.path}`;
  return `Timeout when waiting for file ${a.path}`;
}

/** The sh test that holds once the wait is over (the same check as the probe's, made on the host). */
function check(a: WaitForArgs): string {
  if (a.path !== undefined) {
    const p = quote(a.path);
    if (!wantsPresent(a)) return `[ ! -e ${p} ]`;
    if (a.search_regex !== undefined) return `[ -f ${p} ] && grep -q -E -e ${quote(a.search_regex)} -- ${p} 2>/dev/null`;
    return `[ -e ${p} ]`;
  }
  const port = a.port!.toString(16).toUpperCase().padStart(4, '0');
  const listening = `cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" && $2 ~ /:${port}$/ { found = 1 } END { exit !found }'`;
  return wantsPresent(a) ? listening : `! { ${listening}; }`;
}

/** The poll apply runs: POSIX sh, bounded by `timeout`, one line on stderr when it gives up. */
export function pollCommand(a: WaitForArgs): string {
  return [
    ...(a.delay > 0 ? [`sleep ${a.delay}`] : []),
    `end=$(( $(date +%s) + ${a.timeout} ))`,
    'while :; do',
    `  if ${check(a)}; then exit 0; fi`,
    `  if [ "$(date +%s)" -ge "$end" ]; then printf '%s\\n' ${quote(timeoutMessage(a))} >&2; exit 1; fi`,
    `  sleep ${a.sleep}`,
    'done',
  ].join('\n');
}

function satisfied(a: WaitForArgs, facts: FactValues<Facts>): boolean {
  if (a.port !== undefined) {
    const up = known(facts.ports!).listeners.some((l) => answers(l, a.host, a.port!));
    return wantsPresent(a) ? up : !up;
  }
  if (a.search_regex !== undefined) {
    const f = known(facts.content!);
    if (f.type !== 'file') return false;
    if (f.content === undefined) throw new UnknownState(`${a.path} is larger than ${SEARCH_LIMIT} bytes or not text: apply polls it`);
    return pyRegExp(a.search_regex, { multiline: true }).test(f.content);
  }
  const exists = known(facts.path!).exists;
  return wantsPresent(a) ? exists : !exists;
}

export const wait_for = defineModule<WaitForArgs, Facts>({
  name: 'wait_for',
  summary: 'waits for a path or a port on the host (checked read-only at plan; apply polls until timeout); reports ok, never changed',
  schema: waitForArgs,
  differences: [
    "A port is checked in the host's own listening sockets (/proc/net/tcp): `host` must be the host itself, and search_regex works only with path; plumb connects nowhere.",
    'Without port or path (a plain sleep) it is refused: use pause. `state: drained`, `exclude_hosts`, `active_connection_states` and `connect_timeout` are not supported.',
    'Already satisfied when the plan probes: apply does not sleep `delay` (Ansible sleeps it first).',
    'search_regex is limited to what grep -E reads as Python does (no \\d, \\w, \\b, (?...)); the registered result has no match_groups or elapsed.',
  ],
  title: (args) => (args.port !== undefined ? `${String(args.host ?? '127.0.0.1')}:${String(args.port)}` : String(args.path ?? '')),
  facts(args) {
    if (args.port !== undefined) return { ports: listeningFact() };
    if (args.search_regex !== undefined) return { content: fileFact(args.path!, { hash: true, fetchLimit: SEARCH_LIMIT, follow: true }) };
    return { path: statFact({ path: args.path!, follow: true, checksum: null }) };
  },
  plan(args, facts): Planned[] {
    if (satisfied(args, facts)) return [];
    const shown = what(args);
    return [
      {
        change: { summary: `will wait up to ${args.timeout} s for ${shown}`, target: shown, wait: true },
        steps: [{ kind: 'exec', command: pollCommand(args), describe: `wait for ${shown}`, failsWith: timeoutMessage(args) }],
      },
    ];
  },
  // For a path Ansible's result `state` is the path's type (file, directory: its file attributes), which plumb does not register.
  registers: (args) => ({
    ...(args.port !== undefined ? { state: args.state, port: args.port } : {}),
    ...(args.path !== undefined ? { path: args.path } : {}),
    ...(args.search_regex !== undefined ? { search_regex: args.search_regex } : {}),
  }),
});
