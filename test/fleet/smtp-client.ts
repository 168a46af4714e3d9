/**
 * A line-level SMTP client for tests: every reply code is returned as sent, so
 * a test can assert exactly what a server refuses and accepts.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/** A line-level SMTP client, so every reply code of the relay is checked as sent. */
export class Smtp {
  private buf = '';
  private waiting?: () => void;
  constructor(private sock: Socket | TLSSocket) {
    this.attach(sock);
  }
  private attach(sock: Socket | TLSSocket) {
    this.sock = sock;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.waiting?.();
    });
  }
  static open(host: string, port: number): Promise<Smtp> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port }, () => resolve(new Smtp(s)));
      s.once('error', reject);
    });
  }
  /** One complete (possibly multi-line) reply. */
  async reply(): Promise<{ code: number; text: string }> {
    for (;;) {
      const m = this.buf.match(/^(?:\d{3}-[^\n]*\n)*(\d{3}) [^\n]*\n/);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        return { code: Number(m[1]), text: m[0] };
      }
      await new Promise<void>((r, j) => {
        const t = setTimeout(() => j(new Error(`no SMTP reply; got ${JSON.stringify(this.buf)}`)), 10_000);
        this.waiting = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }
  async cmd(line: string) {
    this.sock.write(line + '\r\n');
    return this.reply();
  }
  startTls(ca: string, servername: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sock.removeAllListeners('data');
      const t = tlsConnect({ socket: this.sock, ca, servername, rejectUnauthorized: true }, () => {
        this.buf = '';
        this.attach(t);
        resolve();
      });
      t.once('error', reject);
    });
  }
  close() {
    this.sock.destroy();
  }
}

export const authPlain = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString('base64');
