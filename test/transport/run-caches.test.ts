/**
 * What a run decodes once for all its hosts, through the CLI against a real
 * sshd: the identity file (so an encrypted key's passphrase is asked once per
 * run, not once per host) and known_hosts.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { Io } from '../../src/cli/command.js';
import { run } from '../../src/cli/main.js';
import { makeKey, startSshd, tempDir, type Sshd } from './sshd.js';

let sshd: Sshd;
let dir: string;

beforeAll(async () => {
  dir = tempDir();
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('one run, many hosts', { timeout: 300_000 }, () => {
  it('asks an encrypted identity its passphrase once for all hosts, and checks every host key', async () => {
    const key = makeKey(dir, 'id_enc', 'ed25519', 'run passphrase');
    sshd.authorize(userInfo().username, [key.pub]);
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    const hosts = Object.fromEntries(['a', 'b', 'c', 'd'].map((h) => [h, { host: '127.0.0.1', port: sshd.port, identity_file: key.path }]));
    writeFileSync(join(dir, 'inventory.yaml'), YAML.stringify({ all: { vars: { user: userInfo().username }, hosts } }));
    const state = join(dir, 'state');
    writeFileSync(join(dir, 'play.yaml'), YAML.stringify([{ name: 'p', hosts: 'all', tasks: [{ name: 'd', file: { path: state, state: 'directory' } }] }]));

    const asked: string[] = [];
    let stdout = '';
    let stderr = '';
    const io: Io = {
      stdout: (t) => void (stdout += t + '\n'),
      stderr: (t) => void (stderr += t + '\n'),
      env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1', CI: 'true' },
      prompt: async (q) => (asked.push(q), 'run passphrase'),
    };
    const args = ['apply', join(dir, 'play.yaml'), '-i', join(dir, 'inventory.yaml'), '--known-hosts', knownHosts, '--ssh-config', '/dev/null'];
    const code = await run(args, io);
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    // Four names for one machine: whichever host plans first creates the directory for all.
    expect(stdout.match(/^[abcd]\s+(ok|changed)\s/gm)?.length).toBe(4);
    expect(asked).toEqual([`Passphrase for ${key.path}: `]);

    // The cached known_hosts view still verifies each connection: a wrong key for this port fails every host.
    const other = makeKey(dir, 'other_host');
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${other.pub.split(' ').slice(0, 2).join(' ')}\n`);
    stdout = '';
    stderr = '';
    const refused = await run(args, io);
    expect(refused).not.toBe(0);
    expect(stdout.match(/^[abcd]\s+unreachable\s/gm)?.length).toBe(4);
    expect(stdout + stderr).toContain(`HOST KEY CHANGED for [127.0.0.1]:${sshd.port}`);
  });
});
