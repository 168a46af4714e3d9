/**
 * Faults a real sshd will not produce on demand, injected with ssh2's
 * in-process server: dropped connections, stalls, garbage, refused auth.
 */
import { writeFileSync, rmSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { Connection as ServerConnection, ServerChannel } from 'ssh2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InventoryHost } from '../../src/inventory/model.js';
import { openTransport, type TransportOptions } from '../../src/transport/index.js';
import { TransportTimeoutError, UnreachableError, type Transport } from '../../src/transport/types.js';
import { failure, freePort, makeKey, tempDir } from './sshd.js';

const { Server, utils } = ssh2;

type ExecBehaviour = (channel: ServerChannel, command: string, conn: ServerConnection, sock: Socket) => void;

interface FakeServer {
  port: number;
  close(): Promise<void>;
}

const { hostKey, hostKeyBlob } = parsableHostKey();
let dir: string;
let key: { path: string; pub: string };
const servers: FakeServer[] = [];

beforeAll(() => {
  dir = tempDir();
  key = makeKey(dir, 'id_fault');
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function startServer(options: { acceptAuth?: boolean; onExec?: ExecBehaviour; port?: number }): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const server = new Server({ hostKeys: [hostKey.private] }, (conn) => {
    const sock = [...sockets].pop()!;
    conn.on('authentication', (ctx) => (options.acceptAuth === false ? ctx.reject(['publickey']) : ctx.accept()));
    conn.on('error', () => {});
    conn.on('ready', () => {
      conn.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          const channel = acceptExec();
          (options.onExec ?? ((ch: ServerChannel) => (ch.exit(0), ch.end())))(channel, info.command, conn, sock);
        });
      });
    });
  });
  const net = (server as unknown as { _srv: NetServer })._srv;
  net.on('connection', (s: Socket) => sockets.add(s));
  return new Promise((resolve) => {
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const fake: FakeServer = {
        port: (server.address() as { port: number }).port,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      };
      servers.push(fake);
      resolve(fake);
    });
  });
}

function rawServer(onConnection: (sock: Socket) => void): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    onConnection(s);
  });
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => {
      const fake: FakeServer = {
        port: (srv.address() as { port: number }).port,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            srv.close(() => r());
          }),
      };
      servers.push(fake);
      resolve(fake);
    });
  });
}

function target(port: number): InventoryHost {
  return { name: 'faulty', groups: ['all'], vars: {}, connection: { host: '127.0.0.1', port, user: 'tester', identity_file: key.path } };
}
function opts(port: number, extra: TransportOptions = {}): TransportOptions {
  const file = join(dir, `kh-${port}`);
  writeFileSync(file, `[127.0.0.1]:${port} ssh-ed25519 ${hostKeyBlob.toString('base64')}\n`);
  return { knownHostsFiles: [file], agentSocket: false, sshConfigFile: '/dev/null', connectRetries: 0, ...extra };
}

describe('transport faults (ssh2 in-process server)', () => {
  it('connection dropped mid-command: a clear one-line error, no hang', async () => {
    const srv = await startServer({
      onExec: (channel, _cmd, _conn, sock) => {
        channel.write('partial output\n');
        setTimeout(() => sock.destroy(), 100);
      },
    });
    const t = await openTransport(target(srv.port), opts(srv.port));
    const started = Date.now();
    const err = await failure(t.exec('long job', { label: 'install postfix' }));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(/^connection lost \(.+\) while running install postfix$/);
    expect(Date.now() - started).toBeLessThan(3000);
    // The host stays failed: later commands fail at once with the same kind of error.
    await expect(t.exec('true')).rejects.toThrow(/^connection lost/);
    await t.close();
  });

  it('a stalled command hits its timeout', async () => {
    const srv = await startServer({ onExec: () => {} });
    const t: Transport = await openTransport(target(srv.port), opts(srv.port));
    const err = await failure(t.exec('stall', { timeoutMs: 400, label: 'wait for apt lock' }));
    expect(err).toBeInstanceOf(TransportTimeoutError);
    expect(err.message).toBe('timed out after 0.4 s running wait for apt lock');
    await t.close();
  });

  it('a frozen server is detected by keepalives, even without a command timeout', async () => {
    const srv = await startServer({
      onExec: (_channel, _cmd, _conn, sock) => {
        // Stop reading: keepalive requests go unanswered.
        sock.pause();
      },
    });
    const t = await openTransport(target(srv.port), opts(srv.port, { keepaliveIntervalMs: 200, keepaliveCountMax: 2 }));
    const started = Date.now();
    const err = await failure(t.exec('freeze', { label: 'frozen task' }));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toBe('connection lost (the host stopped answering keepalives) while running frozen task');
    expect(Date.now() - started).toBeLessThan(3000);
    await t.close();
  });

  it('a garbage banner gives a clear error', async () => {
    const srv = await rawServer((s) => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    const err = await failure(openTransport(target(srv.port), opts(srv.port)));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toBe(`127.0.0.1:${srv.port} does not speak SSH (it said "HTTP/1.1 400 Bad Request")`);
    expect(err.message).not.toContain('\n');
  });

  it('a server that accepts TCP but never speaks hits the connect timeout from ssh config', async () => {
    const srv = await rawServer(() => {});
    const config = join(dir, 'ssh_config_timeout');
    // Host patterns match the inventory name when the inventory gives no `host:` (like ansible_host).
    writeFileSync(config, 'Host faulty\n  HostName 127.0.0.1\n  ConnectTimeout 1\n');
    const started = Date.now();
    const named: InventoryHost = { name: 'faulty', groups: ['all'], vars: {}, connection: { port: srv.port, user: 'tester', identity_file: key.path } };
    const err = await failure(openTransport(named, { ...opts(srv.port), sshConfigFile: config }));
    expect(err.message).toBe(`timed out after 1 s connecting to 127.0.0.1:${srv.port}`);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('refused authentication names what was tried', async () => {
    const srv = await startServer({ acceptAuth: false });
    const err = await failure(openTransport(target(srv.port), opts(srv.port)));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toBe(`authentication failed for tester@127.0.0.1:${srv.port} (tried key ${key.path})`);
  });

  it('retries a refused connection until the server is up', async () => {
    const port = await freePort();
    setTimeout(() => void startServer({ port }), 400);
    const t = await openTransport(target(port), opts(port, { connectRetries: 4 }));
    expect((await t.exec('anything')).code).toBe(0);
    await t.close();
  });

  it('one dropped host does not disturb another connection', async () => {
    const bad = await startServer({ onExec: (_c, _cmd, _conn, sock) => sock.destroy() });
    const good = await startServer({ onExec: (ch) => (ch.write('fine\n'), ch.exit(0), ch.end()) });
    const [tb, tg] = await Promise.all([openTransport(target(bad.port), opts(bad.port)), openTransport(target(good.port), opts(good.port))]);
    const [rb, rg] = await Promise.allSettled([tb.exec('x'), tg.exec('y')]);
    expect(rb.status).toBe('rejected');
    expect(rg).toEqual({ status: 'fulfilled', value: { code: 0, signal: null, stdout: 'fine\n', stderr: '' } });
    await Promise.all([tb.close(), tg.close()]);
  });
});

/**
 * ssh2's generateKeyPairSync writes an ed25519 public key whose first byte is
 * 0 with 31 bytes, which its own parseKey then refuses (about 1 key in 256):
 * draw again until the pair parses.
 */
function parsableHostKey(): { hostKey: ReturnType<typeof utils.generateKeyPairSync>; hostKeyBlob: Buffer } {
  for (;;) {
    const hostKey = utils.generateKeyPairSync('ed25519');
    const parsed = utils.parseKey(hostKey.public);
    if (!(parsed instanceof Error)) return { hostKey, hostKeyBlob: (parsed as ssh2.ParsedKey).getPublicSSH() };
  }
}
