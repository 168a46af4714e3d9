/**
 * Plans for review on real hosts: markdown for a pull request, JSON that
 * validates against `plumb schema plan`, and `apply PLAN.json` that applies
 * exactly what was reviewed and refuses what moved since.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { plumb, repoRoot, type PlumbRun } from './plumb.js';

const runE2E = process.getuid?.() === 0 || process.env.CI === 'true';
if (!runE2E) console.warn('review-plan e2e tests skipped: they need root (network namespaces, overlayfs, chroot)');

const PLAYBOOK = 'playbooks/postfix-gmail-relay.yaml';
const EXPECTED_MD = join(repoRoot, 'test/fixtures/plans/fresh-two-hosts.md');

describe.skipIf(!runE2E)('plans for review on the fleet', { timeout: 300_000 }, () => {
  let fleet: Fleet;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const outputs: PlumbRun[] = [];
  const files: string[] = [];

  const run = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const r = await plumb([...args, '--known-hosts', fleet.knownHostsPath], { ...env, ...extraEnv });
    outputs.push(r);
    return r;
  };
  const sh = async (host: string, cmd: string) => (await fleet.exec(host, cmd)).stdout.trim();
  /** Host-independent: the fleet's paths and subnet differ between machines and fleet names. */
  const normalise = (text: string) => text.replaceAll(fleet.inventoryPath, 'INVENTORY').replaceAll(fleet.relay.host, 'RELAY');

  beforeAll(async () => {
    fleet = await startFleet({ hosts: 3 });
    env = { GMAIL_APP_PASSWORD: fleet.relay.password };
    dir = mkdtempSync(join(tmpdir(), 'plumb-review-'));
  }, 900_000);

  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a markdown plan of fresh hosts matches the reviewed document', async () => {
    const r = await run(['plan', PLAYBOOK, '-i', fleet.inventoryPath, '--limit', 'mail1:mail2', '--format', 'markdown']);
    expect(r.code, r.stderr).toBe(2);
    const got = normalise(r.stdout);
    if (process.env.PLUMB_UPDATE_EXPECTED === '1') writeFileSync(EXPECTED_MD, got);
    expect(got).toBe(readFileSync(EXPECTED_MD, 'utf8'));
  });

  it('JSON plans validate against `plumb schema plan` and are byte-identical but for created_at, the salt and the secret-keyed fingerprints', async () => {
    const schema = await plumb(['schema', 'plan']);
    expect(schema.code).toBe(0);
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(JSON.parse(schema.stdout));
    const a = await run(['plan', PLAYBOOK, '-i', fleet.inventoryPath, '--format', 'json']);
    const b = await run(['plan', PLAYBOOK, '-i', fleet.inventoryPath, '--format', 'json']);
    expect(a.code, a.stderr).toBe(2);
    const docA = JSON.parse(a.stdout);
    expect(validate(docA), JSON.stringify(validate.errors)).toBe(true);
    expect(docA.hosts.map((h: { name: string }) => h.name)).toEqual(['mail1', 'mail2', 'mail3']);
    const docB = JSON.parse(b.stdout);
    // Each plan draws its own salt, so fingerprints of tasks that use the app password differ; all others are equal.
    expect(docB.fingerprint_key.salt).not.toBe(docA.fingerprint_key.salt);
    const secretTask = (t: { name: string }) => t.name === 'Gmail credentials';
    type Doc = { created_at: string; fingerprint_key: { salt: string }; hosts: Array<{ tasks: Array<{ name: string; probed?: string; desired?: string }> }> };
    for (const [hostA, hostB] of (docA as Doc).hosts.map((h, i) => [h, (docB as Doc).hosts[i]] as const)) {
      const [taskA, taskB] = [hostA.tasks.find(secretTask)!, hostB.tasks.find(secretTask)!];
      expect(taskB.desired).not.toBe(taskA.desired);
    }
    const strip = (d: Doc) => {
      const copy = structuredClone(d);
      copy.created_at = '';
      copy.fingerprint_key.salt = '';
      for (const h of copy.hosts) for (const t of h.tasks) if (secretTask(t)) t.probed = t.desired = '';
      return copy;
    };
    expect(strip(docB)).toEqual(strip(docA));
  });

  it('apply PLAN.json converges exactly the planned hosts and refuses the one that drifted since', async () => {
    const planFile = join(dir, 'plan.json');
    files.push(planFile);
    const p = await run(['plan', PLAYBOOK, '-i', fleet.inventoryPath, '--limit', 'mail1:mail2', '--out', planFile]);
    expect(p.code, p.stderr).toBe(2);
    // mail2 drifts between review and apply.
    await sh('mail2', 'mkdir -p /etc/postfix && echo drifted > /etc/postfix/sasl_passwd');
    const a = await run(['apply', planFile]);
    expect(a.code, a.stdout + a.stderr).toBe(1);
    expect(a.stdout).toMatch(/^mail1\s+changed/m);
    expect(a.stdout).toMatch(/^mail2\s+refused/m);
    expect(a.stdout).toMatch(/mail2: stale: \/etc\/postfix\/sasl_passwd mode was absent in the plan, is 0644 now/);
    expect(a.stderr).toMatch(/refused \(stale plan\): mail2/);
    expect(a.stdout).not.toMatch(/^mail3/m);
    expect(await sh('mail1', 'postconf -h inet_protocols')).toBe('ipv4');
    expect(await sh('mail2', 'cat /etc/postfix/sasl_passwd')).toBe('drifted');
    expect(await sh('mail3', 'test -e /usr/sbin/postconf && echo installed || echo absent')).toBe('absent');
  });

  it('a changed secret makes the tasks that use it stale', async () => {
    const planFile = join(dir, 'plan-secret.json');
    files.push(planFile);
    const p = await run(['plan', PLAYBOOK, '-i', fleet.inventoryPath, '--limit', 'mail1', '--out', planFile]);
    expect(p.code, p.stderr).toBe(0); // mail1 converged above
    const a = await run(['apply', planFile], { GMAIL_APP_PASSWORD: 'another-app-password' });
    expect(a.code).toBe(1);
    expect(a.stdout).toMatch(/mail1: stale: Gmail credentials: the desired state changed/);
    expect(a.stdout).not.toMatch(/Relay, SASL and TLS settings in main\.cf: the desired state changed/);
  });

  it('apply PLAN.json refuses before contacting anything when the playbook changed', async () => {
    const playbook = join(dir, 'site.yaml');
    copyFileSync(join(repoRoot, PLAYBOOK), playbook);
    const planFile = join(dir, 'plan-edited.json');
    files.push(planFile);
    const p = await run(['plan', playbook, '-i', fleet.inventoryPath, '--limit', 'mail3', '--out', planFile]);
    expect(p.code, p.stderr).toBe(2);
    appendFileSync(playbook, '# edited after review\n');
    await fleet.stopSshd('mail3'); // were anything contacted, mail3 would be unreachable (exit 4)
    try {
      const a = await run(['apply', planFile]);
      expect(a.code).toBe(1);
      expect(a.stderr).toMatch(new RegExp(`the plan is stale: ${playbook.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} changed since it was made`));
      expect(a.stderr).not.toMatch(/^PLAY /m);
      expect(a.stdout).toBe('');
    } finally {
      await fleet.startSshd('mail3');
    }
  });

  it('the app password is in no plan file, markdown, JSON or log', () => {
    const secret = fleet.relay.password;
    expect(outputs.length).toBeGreaterThan(6);
    for (const o of outputs) {
      expect(o.stdout.includes(secret)).toBe(false);
      expect(o.stderr.includes(secret)).toBe(false);
    }
    for (const f of files) expect(readFileSync(f).includes(Buffer.from(secret))).toBe(false);
  });
});
