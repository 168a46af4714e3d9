/**
 * A small static HTTP server for get_url/unarchive tests: it serves the files under one
 * directory on one address (127.0.0.1 for scratch runs, the fleet's bridge address for fleet
 * hosts — never anything else), with Last-Modified and If-Modified-Since as any web server
 * answers them, so Ansible's conditional GET meets a real 304. Requests are recorded, so a
 * test can tell how often the host fetched.
 */
import { spawn } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FileServer {
  /** http://HOST:PORT, no trailing slash. */
  url: string;
  /** "METHOD /path" of every request, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startFileServer(root: string, host: string): Promise<FileServer> {
  if (host !== '127.0.0.1' && !host.startsWith('10.233.')) throw new Error(`the test file server binds only to loopback or a fleet bridge, not ${host}`);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const rel = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]));
    if (rel.includes('..')) return void res.writeHead(400).end();
    const path = join(root, rel);
    let st;
    try {
      st = statSync(path);
    } catch {
      return void res.writeHead(404).end('not found\n');
    }
    if (!st.isFile()) return void res.writeHead(404).end('not found\n');
    const modified = Math.floor(st.mtimeMs / 1000) * 1000;
    const since = Date.parse(req.headers['if-modified-since'] ?? '');
    if (!Number.isNaN(since) && modified <= since) return void res.writeHead(304).end();
    res.writeHead(200, { 'content-length': st.size, 'last-modified': new Date(modified).toUTCString(), 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The same server in a child process (so a caller may block its own event loop meanwhile); close() ends that process. */
export async function startFileServerProcess(root: string, host: string): Promise<Omit<FileServer, 'requests'>> {
  const main = fileURLToPath(new URL('./http-main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), main, root, host], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.once('exit', (code) => reject(new Error(`the file server exited (${code}) before it listened`)));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
