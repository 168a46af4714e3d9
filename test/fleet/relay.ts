/**
 * A stand-in for smtp.gmail.com:587 on the fleet's bridge address: STARTTLS is
 * required, then AUTH (PLAIN only by default — a relay that also offers LOGIN
 * would hide a missing libplain.so on the client, see notes/fleet.md), and MAIL
 * is refused before both. Accepted messages are recorded with the mechanism
 * and user that sent them. The server side is the maintained smtp-server package.
 */
import { readFileSync } from 'node:fs';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { run } from './run.js';

export type Mechanism = 'PLAIN' | 'LOGIN';

export interface RelayMessage {
  from: string;
  to: string[];
  mech: Mechanism;
  user: string;
  raw: string;
}

export interface RelayConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  mechanisms: Mechanism[];
  certPath: string;
  keyPath: string;
}

export interface Relay {
  /** The port actually bound (differs from the config only when it asked for 0). */
  port: number;
  messages: RelayMessage[];
  waitForMessage(predicate: (m: RelayMessage) => boolean, timeoutMs: number): Promise<RelayMessage>;
  close(): Promise<void>;
}

/** A self-signed certificate for the relay; the certificate is its own CA. */
export async function makeRelayCertificate(certPath: string, keyPath: string, ip: string) {
  await run([
    'openssl',
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '30',
    '-subj',
    '/CN=smtp.plumb.test',
    '-addext',
    `subjectAltName=IP:${ip},DNS:smtp.plumb.test`,
  ]);
}

interface AuthedUser {
  user: string;
  mech: Mechanism;
}

export async function startRelay(cfg: RelayConfig, onMessage?: (m: RelayMessage) => void): Promise<Relay> {
  const messages: RelayMessage[] = [];
  const waiters = new Set<{ predicate: (m: RelayMessage) => boolean; resolve: (m: RelayMessage) => void }>();
  const authed = (session: SMTPServerSession) => session.user as unknown as AuthedUser | undefined;

  const server = new SMTPServer({
    name: 'smtp.plumb.test',
    banner: 'plumb fleet stand-in for smtp.gmail.com',
    key: readFileSync(cfg.keyPath),
    cert: readFileSync(cfg.certPath),
    secure: false,
    authMethods: cfg.mechanisms,
    authOptional: false,
    allowInsecureAuth: false, // AUTH only after STARTTLS
    size: 25 * 1024 * 1024,
    logger: false,
    closeTimeout: 2000,
    disabledCommands: [],
    onAuth(auth, session, cb) {
      const mech = auth.method as Mechanism;
      if (!cfg.mechanisms.includes(mech)) return cb(new Error(`${mech} not offered`));
      if (!session.secure) return cb(Object.assign(new Error('Must issue a STARTTLS command first'), { responseCode: 530 }));
      if (auth.username !== cfg.user || auth.password !== cfg.password) return cb(Object.assign(new Error('5.7.8 Username and Password not accepted'), { responseCode: 535 }));
      cb(null, { user: { user: auth.username, mech } satisfies AuthedUser });
    },
    onMailFrom(_address, session, cb) {
      if (!session.secure) return cb(Object.assign(new Error('5.7.0 Must issue a STARTTLS command first'), { responseCode: 530 }));
      if (!authed(session)) return cb(Object.assign(new Error('5.7.0 Authentication Required'), { responseCode: 530 }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', cb);
      stream.on('end', () => {
        const who = authed(session)!;
        const message: RelayMessage = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          mech: who.mech,
          user: who.user,
          raw: Buffer.concat(chunks).toString('utf8'),
        };
        messages.push(message);
        onMessage?.(message);
        for (const w of waiters) if (w.predicate(message)) w.resolve(message);
        cb();
      });
    },
  });
  server.on('error', () => {}); // a client's broken connection must not crash the test process

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(new Error(`relay cannot listen on ${cfg.host}:${cfg.port}: ${e.message}`));
    server.server.once('error', onError);
    server.listen(cfg.port, cfg.host, () => {
      server.server.off('error', onError);
      resolve();
    });
  });

  const address = server.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : cfg.port,
    messages,
    waitForMessage(predicate, timeoutMs) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = {
          predicate,
          resolve: (m: RelayMessage) => {
            clearTimeout(timer);
            waiters.delete(w);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no matching message reached the relay within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
