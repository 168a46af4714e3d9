/** Reads a secret from the terminal without echo (sudo password, key passphrase). */
import { openSync, closeSync } from 'node:fs';
import { PlumbError } from '../errors.js';

/** Why a secret cannot be asked for: there is no terminal to ask on. */
export function noTerminal(question: string): PlumbError {
  return new PlumbError(`cannot ask "${question.trim()}": no terminal (set the password through become_password_env instead)`);
}

export async function promptHidden(question: string): Promise<string> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    throw noTerminal(question);
  }
  // node:tty loads here, when a secret is asked for, not with every command.
  const { ReadStream } = await import('node:tty');
  const input = new ReadStream(fd);
  process.stderr.write(question);
  input.setRawMode(true);
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      input.on('data', (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return resolve(value);
          if (ch === '\u0003') return reject(new PlumbError('cancelled'));
          if (ch === '\u007f') value = value.slice(0, -1);
          else value += ch;
        }
      });
    });
  } finally {
    input.setRawMode(false);
    input.destroy();
    process.stderr.write('\n');
    try {
      closeSync(fd);
    } catch {
      /* already closed by the stream */
    }
  }
}
