/** `connection: local` behaves like ssh: same wrapping, timeouts, writeFile. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTransport } from '../../src/transport/index.js';
import { TransportTimeoutError } from '../../src/transport/types.js';
import { quote } from '../../src/quote.js';
import { tempDir } from './sshd.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const open = () => openTransport({ name: 'localhost', groups: ['all'], vars: {}, connection: { connection: 'local' } }, {});

describe('local transport', () => {
  it('runs commands with separate streams, exit codes and signals', async () => {
    const t = await open();
    expect(await t.exec('echo out; echo err >&2; exit 7')).toEqual({ code: 7, signal: null, stdout: 'out\n', stderr: 'err\n' });
    expect(await t.exec('kill -TERM $$')).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect((await t.exec(`printf '%s' ${quote("it's $(id) `x`\n;*")}`)).stdout).toBe("it's $(id) `x`\n;*");
    await t.close();
  });

  it('passes binary stdin and writes files atomically with a mode', async () => {
    const t = await open();
    const data = randomBytes(100_000);
    const r = await t.exec('sha256sum', { stdin: data });
    expect(r.stdout.split(' ')[0]).toBe(execFileSync('sha256sum', { input: data }).toString().split(' ')[0]);
    const target = join(dir, 'f.bin');
    await t.writeFile(target, data, { mode: '0600' });
    expect(readFileSync(target).equals(data)).toBe(true);
    expect((statSync(target).mode & 0o777).toString(8)).toBe('600');
    expect(readdirSync(dir)).toEqual(['f.bin']);
    await t.close();
  });

  it('kills the whole command on timeout', async () => {
    const t = await open();
    const marker = `sleep 3456.${Date.now() % 1000}`;
    await expect(t.exec(`${marker}; echo never`, { timeoutMs: 300 })).rejects.toBeInstanceOf(TransportTimeoutError);
    await new Promise((r) => setTimeout(r, 200));
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(marker);
    await t.close();
  });

  it.skipIf(process.getuid?.() !== 0)('become to the current user runs without sudo', async () => {
    const t = await open();
    expect((await t.exec('id -un', { become: 'root' })).stdout).toBe('root\n');
    await t.close();
  });
});
