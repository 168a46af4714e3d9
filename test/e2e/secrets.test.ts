/**
 * Secrets follow the data on a real Debian host (issue 10, class 2): a hostile
 * secret is shell-quoted, base64-encoded and concatenated into a file's content
 * and into a postconf value, echoed in base64 by a remote tool, planned (text,
 * markdown, JSON, saved plan) and applied; no output shows it in any encoding.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { quote } from '../../src/quote.js';
import { plumb, type PlumbRun } from './plumb.js';
import { forms } from '../secret-forms.js';

const isRoot = process.getuid?.() === 0;
const runE2E = isRoot || process.env.CI === 'true';
if (!runE2E) console.warn('secrets e2e tests skipped: they need root (network namespaces, overlayfs, chroot)');

const SECRET = `Pa'ss "w$(rd)\`x 🔑 ü\\n`;
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe.skipIf(!runE2E)('secrets on a fleet host', { timeout: 300_000 }, () => {
  let fleet: Fleet;
  let dir: string;
  const outputs: Array<[string, string]> = [];
  const derived = [quote(SECRET), b64(SECRET), `acct:${SECRET}`, `plumb-${b64(SECRET).toLowerCase()}`, b64(SECRET).toLowerCase()];

  const run = async (label: string, args: string[]): Promise<PlumbRun> => {
    const r = await plumb([...args, '-i', fleet.inventoryPath, '--known-hosts', fleet.knownHostsPath], { PLUMB_E2E_SECRET: SECRET });
    outputs.push([`${label} stdout`, r.stdout], [`${label} stderr`, r.stderr]);
    return r;
  };
  const sh = async (cmd: string) => {
    const r = await fleet.exec('mail1', cmd);
    if (r.code !== 0) throw new Error(`mail1: ${cmd} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    fleet = await startFleet({ hosts: 1 });
    dir = mkdtempSync(join(tmpdir(), 'plumb-e2e-secrets-'));
    const play = {
      name: 'transformed secret',
      hosts: 'mail1',
      secrets: { relay_pw: '{{ env.PLUMB_E2E_SECRET }}' },
      vars: { relay_pw_b64: '{{ relay_pw | b64encode }}' },
      tasks: [
        { name: 'postfix', apt: { name: 'postfix' } },
        {
          name: 'credentials file',
          copy: { dest: '/etc/plumb-secret.conf', mode: '0600', content: "auth = {{ relay_pw_b64 }}\nquoted = {{ relay_pw | quote }}\nuser = {{ 'acct:' ~ relay_pw }}\n" },
        },
        // postconf values cannot hold whitespace or quotes: the secret goes in through a variable, base64, lower case and a concatenation.
        { name: 'helo from the secret', postconf: { smtp_helo_name: 'plumb-{{ relay_pw_b64 | lower }}' } },
        { name: 'remote tool echoes it', shell: "printf '%s' {{ relay_pw | quote }} | base64 -w0 >&2; exit 7", ignore_errors: true },
      ],
    };
    writeFileSync(join(dir, 'site.yaml'), stringify([play]));
  }, 900_000);

  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('plans and applies a transformed secret without showing it anywhere', async () => {
    const pb = join(dir, 'site.yaml');
    const text = await run('plan', ['plan', pb]);
    expect(text.code, text.stderr).toBe(2);
    expect(text.stdout).toMatch(/credentials file\n\s+create \/etc\/plumb-secret\.conf \(secret\)/);
    await run('plan markdown', ['plan', pb, '--format', 'markdown']);
    const planFile = join(dir, 'plan.json');
    await run('plan json', ['plan', pb, '--format', 'json', '--out', planFile]);
    outputs.push(['saved plan', readFileSync(planFile, 'utf8')]);

    const applied = await run('apply saved plan', ['apply', planFile]);
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    expect(applied.stderr).toMatch(/failed \(ignored\) remote tool echoes it: .*exited 7: \*\*\*/);

    // The host holds what the template language computed from the secret.
    expect(await sh('cat /etc/plumb-secret.conf')).toBe(`auth = ${b64(SECRET)}\nquoted = ${quote(SECRET)}\nuser = acct:${SECRET}\n`);
    expect((await sh('postconf -h smtp_helo_name')).trim()).toBe(`plumb-${b64(SECRET).toLowerCase()}`);

    const again = await run('apply again', ['apply', pb, '--diff']);
    expect(again.code, again.stderr).toBe(0);
    const replan = await run('plan again', ['plan', pb, '--format', 'json']);
    expect(replan.code).toBe(2); // only the shell task, which always runs
    const doc = JSON.parse(replan.stdout);
    const outcomes = doc.hosts[0].tasks.map((t: { name: string; outcome: string }) => `${t.name}: ${t.outcome}`);
    expect(outcomes).toEqual(['postfix: ok', 'credentials file: ok', 'helo from the secret: ok', 'remote tool echoes it: change']);

    // Drift with the secret on the host: the plan shows the postconf change as secret, never the value.
    await sh(`postconf -e ${quote(`smtp_helo_name=plumb-${b64(SECRET)}`)}`);
    const drift = await run('plan after drift', ['plan', pb]);
    expect(drift.stdout).toMatch(/set smtp_helo_name \(secret\)/);

    const searched = [SECRET, ...derived];
    for (const [label, out] of outputs) {
      for (const s of searched) {
        for (const f of forms(s)) if (out.includes(f)) throw new Error(`${label} shows ${JSON.stringify(f)}:\n${out}`);
      }
    }
    expect(outputs.length).toBeGreaterThanOrEqual(13);
  });
});
