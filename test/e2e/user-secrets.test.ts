/**
 * The user module's password hash is a secret on a real Debian host (issue 15): a hash kept in
 * Ansible Vault is planned (text, markdown, JSON, saved plan), applied, applied again and planned
 * after a drift; /etc/shadow ends up holding it, and no output shows the hash, its salt, the
 * locked form or the digest the probe compares it by, in any common encoding.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startFleet, type Fleet } from '../fleet/fleet.js';
import { ansibleAvailable } from '../modules/oracle/harness.js';
import { forms } from '../secret-forms.js';
import { plumb, type PlumbRun } from './plumb.js';

const isRoot = process.getuid?.() === 0;
const runE2E = isRoot || process.env.CI === 'true';
if (!runE2E) console.warn('user secrets e2e test skipped: it needs root (network namespaces, overlayfs, chroot)');

/** A real sha512-crypt hash (openssl passwd -6), made here so no fixture holds it. */
function cryptHash(password: string, salt: string): string {
  return execFileSync('openssl', ['passwd', '-6', '-salt', salt, password], { encoding: 'utf8' }).trim();
}

describe.skipIf(!runE2E)('a vaulted password hash on a fleet host', { timeout: 300_000 }, () => {
  let fleet: Fleet;
  let dir: string;
  const outputs: Array<[string, string]> = [];
  const hash = cryptHash('correct horse', 'pLuMbSaLt0123456');
  const other = cryptHash('battery staple', 'OtherSalt');

  const run = async (label: string, args: string[]): Promise<PlumbRun> => {
    const r = await plumb([...args, '-i', fleet.inventoryPath, '--known-hosts', fleet.knownHostsPath, '--vault-password-file', join(dir, 'vault-pass')]);
    outputs.push([`${label} stdout`, r.stdout], [`${label} stderr`, r.stderr]);
    return r;
  };
  const sh = async (cmd: string) => {
    const r = await fleet.exec(fleet.hosts[0].name, cmd);
    if (r.code !== 0) throw new Error(`${cmd} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    // The vault file is made by Ansible's own ansible-vault, so the oracle is needed (CI must have it).
    if (!ansibleAvailable()) throw new Error('ansible-vault not found: run scripts/install-deps.sh');
    fleet = await startFleet({ hosts: 1 });
    dir = mkdtempSync(join(tmpdir(), 'plumb-e2e-user-secrets-'));
    writeFileSync(join(dir, 'vault-pass'), 'vault words\n');
    const vaulted = execFileSync('ansible-vault', ['encrypt_string', '--vault-password-file', join(dir, 'vault-pass'), '--name', 'deploy_pw', '--stdin-name', 'deploy_pw'], {
      input: hash,
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_NOCOLOR: '1' },
    });
    writeFileSync(join(dir, 'secrets.yaml'), vaulted);
    const play = {
      name: 'deploy account',
      hosts: fleet.hosts[0].name,
      vars_files: ['secrets.yaml'],
      tasks: [{ name: 'deploy user', user: { name: 'deploy', shell: '/bin/bash', password: '{{ deploy_pw }}', password_lock: false } }],
    };
    writeFileSync(join(dir, 'site.yaml'), stringify([play]));
  }, 900_000);

  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sets the hash and never shows it', async () => {
    const pb = join(dir, 'site.yaml');
    const text = await run('plan', ['plan', pb]);
    expect(text.code, text.stderr).toBe(2);
    expect(text.stdout).toMatch(/set password \(secret\)/);
    await run('plan markdown', ['plan', pb, '--format', 'markdown']);
    const planFile = join(dir, 'plan.json');
    await run('plan json', ['plan', pb, '--format', 'json', '--out', planFile]);
    outputs.push(['saved plan', readFileSync(planFile, 'utf8')]);

    const applied = await run('apply saved plan', ['apply', planFile, '--diff']);
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    expect((await sh('getent shadow deploy | cut -d: -f2')).trim() === hash, 'the shadow entry holds the vaulted hash').toBe(true);

    const again = await run('apply again', ['apply', pb, '--diff']);
    expect(again.code, again.stderr).toBe(0);
    const replan = await run('plan again', ['plan', pb, '--format', 'json']);
    expect(replan.code, replan.stderr).toBe(0);

    // Drift: another hash, locked. The plan says the password changes, never from what or to what.
    await sh(`echo 'deploy:!${other}' | chpasswd -e`);
    const drift = await run('plan after drift', ['plan', pb]);
    expect(drift.code).toBe(2);
    expect(drift.stdout).toMatch(/set password \(secret\)/);
    const repaired = await run('apply after drift', ['apply', pb]);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect((await sh('getent shadow deploy | cut -d: -f2')).trim() === hash, 'the drift was repaired').toBe(true);

    const salt = hash.split('$')[2];
    const digest = (s: string) => createHash('sha256').update(s).digest('hex');
    const searched = [hash, `!${hash}`, hash.split('$').pop() as string, salt, digest(hash), other, digest(other)];
    for (const [label, out] of outputs) {
      for (const s of searched) {
        for (const f of forms(s)) if (out.includes(f)) throw new Error(`${label} shows a form of the password hash (${f.length} characters)`);
      }
    }
    expect(outputs.length).toBe(17);
  });
});
