/**
 * A real OpenSSH sshd for tests and benchmarks: own temp dir, config, host
 * key and authorized_keys, on 127.0.0.1 and a free unprivileged port.
 * Started with -D -e and stopped by its PID.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The error a promise rejects with; a promise that resolves fails the test. */
export async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

export function tempDir(prefix = 'plumb-transport-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function makeKey(dir: string, name: string, type = 'ed25519', passphrase = ''): { path: string; pub: string } {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', path]);
  return { path, pub: readFileSync(path + '.pub', 'utf8').trim() };
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Sshd {
  port: number;
  pid: number;
  dir: string;
  /** `ssh-ed25519 AAAA...` of the server's host key. */
  hostKeyPub: string;
  /** Raw host key blob (what hostVerifier sees). */
  hostKeyBlob: Buffer;
  /** Allow a user to log in with these public keys. */
  authorize(user: string, pubKeys: string[]): void;
  stop(): Promise<void>;
}

export interface SshdOptions {
  listen?: string[];
  maxStartups?: string;
  extraConfig?: string;
}

function waitForBanner(host: string, port: number, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = connect(port, host);
      sock.once('data', (d) => {
        sock.destroy();
        if (d.toString().startsWith('SSH-')) resolve();
        else reject(new Error(`unexpected banner ${d.toString()}`));
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd did not listen on ${host}:${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const dir = tempDir('plumb-sshd-');
  chmodSync(dir, 0o755);
  const hostKey = join(dir, 'host_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test-host', '-f', hostKey]);
  const hostKeyPub = readFileSync(hostKey + '.pub', 'utf8')
    .trim()
    .split(' ')
    .slice(0, 2)
    .join(' ');
  const authDir = join(dir, 'authorized_keys');
  mkdirSync(authDir, { mode: 0o755 });
  // sshd as root needs its privilege separation directory.
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
  const port = await freePort();
  const listen = options.listen ?? ['127.0.0.1'];
  const config = [
    `Port ${port}`,
    ...listen.map((a) => `ListenAddress ${a}`),
    `HostKey ${hostKey}`,
    'PidFile none',
    `AuthorizedKeysFile ${authDir}/%u`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin yes',
    'AllowTcpForwarding yes',
    `MaxStartups ${options.maxStartups ?? '10:30:100'}`,
    'Subsystem sftp internal-sftp',
    'LogLevel ERROR',
    options.extraConfig ?? '',
  ].join('\n');
  const configFile = join(dir, 'sshd_config');
  writeFileSync(configFile, config + '\n');
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForBanner(listen[0], port, Date.now() + 10_000),
      exited.then(() => {
        throw new Error(`sshd exited: ${stderr.trim()}`);
      }),
    ]);
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    pid: child.pid!,
    dir,
    hostKeyPub,
    hostKeyBlob: Buffer.from(hostKeyPub.split(' ')[1], 'base64'),
    authorize(user, pubKeys) {
      writeFileSync(join(authDir, user), pubKeys.join('\n') + '\n', { mode: 0o644 });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An ssh-agent the test owns, holding the given keys. */
export async function startAgent(keys: string[]): Promise<{ socket: string; stop: () => void }> {
  const dir = tempDir('plumb-agent-');
  const socket = join(dir, 'agent.sock');
  const child = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  const deadline = Date.now() + 5000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline) throw new Error('ssh-agent did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const k of keys) execFileSync('ssh-add', ['-q', k], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
  return {
    socket,
    stop() {
      if (child.exitCode === null) process.kill(child.pid!, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
