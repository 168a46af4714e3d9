/**
 * Debian's ansible-core for the comparison, installed on first use the way
 * scripts/install-deps.sh installs packages: apt-get with a policy-rc.d guard
 * so no package script starts a service on this machine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync, chmodSync } from 'node:fs';

export function ansibleVersion(): string | undefined {
  try {
    return execFileSync('ansible-playbook', ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  } catch {
    return undefined;
  }
}

export function ensureAnsible(log: (m: string) => void): string {
  const have = ansibleVersion();
  if (have) return have;
  if (process.getuid?.() !== 0) throw new Error("ansible-playbook is missing; run the benchmark as root to install Debian's ansible-core");
  log("installing Debian's ansible-core (apt-get)…");
  const policy = '/usr/sbin/policy-rc.d';
  const created = !existsSync(policy);
  if (created) {
    writeFileSync(policy, '#!/bin/sh\nexit 101\n');
    chmodSync(policy, 0o755);
  }
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'ansible-core'], { stdio: 'inherit', env });
  } finally {
    if (created) rmSync(policy, { force: true });
  }
  const version = ansibleVersion();
  if (!version) throw new Error('ansible-core was installed but ansible-playbook does not run');
  return version;
}
