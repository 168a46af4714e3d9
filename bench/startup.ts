/**
 * Start-up: how long plumb takes before it does anything, from dist/ as installed
 * (bin/plumb.js runs the bundle). Each command runs RUNS times, interleaved with
 * the others so a burst of load on the machine hits all of them alike; medians.
 * `node -e 0` is the floor: node itself. Issue 16's targets: --version < 100 ms,
 * validate of the seed playbook < 200 ms.
 *
 * Called by bench/run.ts (scenario `startup`, no fleet needed); on its own:
 * `npx tsx bench/startup.ts` after `npm run build`.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CpuGroup, runMeasured } from './measure.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.PLUMB_STARTUP_RUNS ?? 15);

export interface StartupRow {
  label: string;
  /** The target for the median wall time, in ms. */
  targetMs?: number;
  wallMs: number[];
  cpuMs: number[];
  failed?: string;
}

const plumb = (...args: string[]) => [process.execPath, join(root, 'bin/plumb.js'), ...args];
const COMMANDS: Array<{ label: string; argv: string[]; targetMs?: number; env?: NodeJS.ProcessEnv }> = [
  { label: 'node -e 0 (floor: node itself)', argv: [process.execPath, '-e', '0'] },
  // Context, not a target: node reads the extra CA file before any JavaScript runs (~50 ms on the
  // benchmark machine, whose environment sets it), and every row above the floor pays it too.
  ...(process.env.NODE_EXTRA_CA_CERTS
    ? [{ label: 'node -e 0 without NODE_EXTRA_CA_CERTS (context)', argv: [process.execPath, '-e', '0'], env: { NODE_EXTRA_CA_CERTS: undefined } }]
    : []),
  { label: 'plumb --version', argv: plumb('--version'), targetMs: 100 },
  { label: 'plumb --help', argv: plumb('--help') },
  { label: 'plumb validate (seed playbook, example inventory)', argv: plumb('validate', 'playbooks/postfix-gmail-relay.yaml', '-i', 'inventory.example.yaml'), targetMs: 200 },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export async function runStartup(log: (m: string) => void): Promise<StartupRow[]> {
  log(`start-up: ${COMMANDS.length} commands × ${RUNS} runs, interleaved`);
  const group = CpuGroup.create(`plumb-startup-${process.pid}`);
  const rows: StartupRow[] = COMMANDS.map((c) => ({ label: c.label, targetMs: c.targetMs, wallMs: [], cpuMs: [] }));
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const [k, c] of COMMANDS.entries()) {
        const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: 'true', ...c.env };
        for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
        const r = await runMeasured(group, c.argv, { cwd: root, env, timeoutMs: 30_000 });
        if (r.code !== 0) rows[k].failed = `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-1)[0]}`;
        else {
          rows[k].wallMs.push(r.wallS * 1000);
          rows[k].cpuMs.push(r.cpuS * 1000);
        }
      }
    }
  } finally {
    await group.remove();
  }
  for (const r of rows) log(`${r.label}: ${r.wallMs.length ? `${median(r.wallMs).toFixed(0)} ms wall, ${median(r.cpuMs).toFixed(0)} ms CPU` : r.failed}`);
  return rows;
}

export function formatStartup(rows: StartupRow[]): string[] {
  const out = [
    '## Start-up',
    '',
    `Each command ${RUNS} times from dist/ (the bundle bin/plumb.js runs), interleaved; median (min–max) in ms. ` +
      'Wall includes the `sh` that puts the process into its measuring cgroup (~1–2 ms, in every row, the floor too); CPU = user+sys.',
    '',
    '| command | runs ok | wall ms | CPU ms | target (wall) |',
    '|---|---|---|---|---|',
  ];
  const cell = (xs: number[]) => (xs.length ? `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})` : '—');
  for (const r of rows) {
    const verdict = r.targetMs === undefined ? '' : !r.wallMs.length ? 'not measured' : `< ${r.targetMs}: ${median(r.wallMs) < r.targetMs ? 'met' : 'NOT met'}`;
    out.push(`| ${r.label} | ${r.wallMs.length}/${RUNS} | ${cell(r.wallMs)} | ${cell(r.cpuMs)} | ${verdict} |`);
  }
  for (const r of rows.filter((x) => x.failed)) out.push('', `- ${r.label}: ${r.failed}`);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await runStartup((m) => console.error(m));
  console.log(formatStartup(rows).join('\n'));
}
