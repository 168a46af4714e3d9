/**
 * The stand-in relay's mechanism rules, on loopback (no root needed): PLAIN
 * only by default, LOGIN only when configured, and the password is never part
 * of what it records.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRelayCertificate, startRelay, type Mechanism, type Relay } from '../fleet/relay.js';
import { Smtp, authPlain } from '../fleet/smtp-client.js';

const user = 'relay@plumb.test';
const password = 'pw-' + Math.random().toString(36).slice(2);
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-relay-'));
  await makeRelayCertificate(join(dir, 'cert.pem'), join(dir, 'key.pem'), '127.0.0.1');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withRelay(mechanisms: Mechanism[], fn: (relay: Relay, s: Smtp) => Promise<void>) {
  const relay = await startRelay({ host: '127.0.0.1', port: 0, user, password, mechanisms, certPath: join(dir, 'cert.pem'), keyPath: join(dir, 'key.pem') });
  const s = await Smtp.open('127.0.0.1', relay.port);
  try {
    expect((await s.reply()).code).toBe(220);
    await s.cmd('EHLO t');
    expect((await s.cmd('STARTTLS')).code).toBe(220);
    await s.startTls(readFileSync(join(dir, 'cert.pem'), 'utf8'), 'smtp.plumb.test');
    await fn(relay, s);
  } finally {
    s.close();
    await relay.close();
  }
}

async function send(s: Smtp, subject: string) {
  expect((await s.cmd('MAIL FROM:<a@plumb.test>')).code).toBe(250);
  expect((await s.cmd('RCPT TO:<b@example.com>')).code).toBe(250);
  expect((await s.cmd('DATA')).code).toBe(354);
  expect((await s.cmd(`Subject: ${subject}\r\n\r\nx\r\n.`)).code).toBe(250);
}

describe('fleet relay mechanisms', () => {
  it('offers only AUTH PLAIN by default and refuses LOGIN', async () => {
    await withRelay(['PLAIN'], async (relay, s) => {
      const ehlo = await s.cmd('EHLO t');
      expect(ehlo.text).toMatch(/^250-AUTH PLAIN\r$/m);
      expect((await s.cmd('AUTH LOGIN')).code).toBe(504);
      expect((await s.cmd(`AUTH PLAIN ${authPlain(user, password)}`)).code).toBe(235);
      await send(s, 'plain');
      const m = await relay.waitForMessage((x) => x.raw.includes('Subject: plain'), 2000);
      expect(m).toMatchObject({ mech: 'PLAIN', user, from: 'a@plumb.test', to: ['b@example.com'] });
      expect(JSON.stringify(relay.messages)).not.toContain(password);
    });
  });

  it('accepts AUTH LOGIN when configured and records the mechanism', async () => {
    await withRelay(['PLAIN', 'LOGIN'], async (relay, s) => {
      expect((await s.cmd('EHLO t')).text).toMatch(/^250-AUTH PLAIN LOGIN\r$/m);
      expect((await s.cmd('AUTH LOGIN')).code).toBe(334);
      expect((await s.cmd(Buffer.from(user).toString('base64'))).code).toBe(334);
      expect((await s.cmd(Buffer.from(password).toString('base64'))).code).toBe(235);
      await send(s, 'login');
      expect((await relay.waitForMessage((x) => x.raw.includes('Subject: login'), 2000)).mech).toBe('LOGIN');
    });
  });

  it('waitForMessage fails clearly when nothing matching arrives', async () => {
    await withRelay(['PLAIN'], async (relay) => {
      await expect(relay.waitForMessage(() => false, 100)).rejects.toThrow(/no matching message reached the relay within 100 ms/);
    });
  });
});
