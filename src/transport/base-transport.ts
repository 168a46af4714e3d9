/**
 * What ssh and local transports share: how a command string is wrapped (sh,
 * remote timeout, sudo), how become is negotiated once per user, and how a
 * file is written atomically. Subclasses only know how to run one command
 * line with some stdin bytes.
 */
import { posix } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { quote, ShellQuoteError } from '../quote.js';
import { checkTimeoutMs } from '../timeouts.js';
import { BecomeError, type ExecOptions, type ExecResult, type Transport, type WriteFileOptions } from './types.js';

/**
 * Collects a stream's bytes as text without keeping both the bytes and the
 * text: chunks are decoded as they arrive and appended to a rope string
 * (V8 concatenation does not copy until the string is first read).
 */
export class TextCollector {
  private decoder = new StringDecoder('utf8');
  private all = '';
  push(chunk: Buffer): void {
    this.all += this.decoder.write(chunk);
  }
  text(): string {
    this.all += this.decoder.end();
    return this.all;
  }
}

export function toBuffer(data: Buffer | string | undefined): Buffer | undefined {
  if (data === undefined) return undefined;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** The label shown in timeout errors when the caller gave none. */
function labelOf(command: string): string {
  const first = command.trim().split('\n')[0];
  return first.length > 60 ? first.slice(0, 57) + '...' : first;
}

export function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

type BecomeMode = 'direct' | 'nopasswd' | 'password';

export abstract class ShellTransport implements Transport {
  private becomeModes = new Map<string, Promise<BecomeMode>>();
  private password?: Promise<string | undefined>;

  constructor(
    readonly host: string,
    /** The user commands run as before become; become to this user skips sudo. */
    protected readonly loginUser: string,
    private readonly defaultTimeoutMs: number,
    private readonly becomePassword: () => Promise<string | undefined>,
  ) {}

  /** Run one command line (already wrapped) with optional stdin. */
  protected abstract run(commandLine: string, stdin: Buffer | undefined, timeoutMs: number, label: string): Promise<ExecResult>;

  abstract close(): Promise<void>;

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (command.includes('\0')) throw new ShellQuoteError('a NUL byte cannot be passed to a shell command');
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    checkTimeoutMs(timeoutMs, 'a command timeout');
    const label = options.label ?? labelOf(command);
    // Always /bin/sh: the login shell may be bash, zsh or fish; we want one
    // predictable dialect. The remote `timeout` kills the whole process group
    // even when the channel close is not noticed by the command.
    let line = `/bin/sh -c ${quote(command)}`;
    if (timeoutMs > 0) {
      const secs = (timeoutMs / 1000).toFixed(3);
      line = `/bin/sh -c ${quote(`if command -v timeout >/dev/null 2>&1; then exec timeout -k 5 ${secs} ${line}; else exec ${line}; fi`)}`;
    }
    let stdin = toBuffer(options.stdin);
    const becomeUser = options.become === true ? 'root' : options.become || undefined;
    if (becomeUser) {
      const mode = await this.becomeMode(becomeUser);
      if (mode === 'nopasswd') line = `sudo -n -u ${quote(becomeUser)} -- ${line}`;
      else if (mode === 'password') {
        // -k: always read the password, so the first stdin line is never left
        // for the command. -p '': no prompt text mixed into stderr.
        line = `sudo -S -k -p ${quote('')} -u ${quote(becomeUser)} -- ${line}`;
        const password = (await this.getPassword())!;
        stdin = Buffer.concat([Buffer.from(password + '\n', 'utf8'), stdin ?? Buffer.alloc(0)]);
      }
    }
    return this.run(`exec ${line}`, stdin, timeoutMs, label);
  }

  private getPassword(): Promise<string | undefined> {
    this.password ??= this.becomePassword();
    return this.password;
  }

  /** Decide once per become user whether sudo is needed and whether it wants a password. */
  private becomeMode(user: string): Promise<BecomeMode> {
    let mode = this.becomeModes.get(user);
    if (!mode) {
      mode = this.probeBecome(user);
      this.becomeModes.set(user, mode);
    }
    return mode;
  }

  private async probeBecome(user: string): Promise<BecomeMode> {
    if (user === this.loginUser) return 'direct';
    const probe = await this.run(`exec sudo -n -u ${quote(user)} -- /bin/sh -c true`, undefined, 30_000, 'sudo -n true');
    if (probe.code === 0) return 'nopasswd';
    const why = probe.stderr;
    if (probe.code === 127 || /sudo: (command )?not found/.test(why)) throw new BecomeError(`become failed: sudo is not installed on the host`);
    if (/password is required|terminal is required|askpass/i.test(why)) {
      const password = await this.getPassword();
      if (password === undefined) {
        throw new BecomeError(`become failed: sudo needs a password to run commands as ${user} (use --ask-become-pass or set become_password_env)`);
      }
      if (password.includes('\n') || password.includes('\0')) throw new BecomeError('become failed: the become password contains a newline or NUL');
      const check = await this.run(`exec sudo -S -k -p ${quote('')} -u ${quote(user)} -- /bin/sh -c true`, Buffer.from(password + '\n', 'utf8'), 30_000, 'sudo -S true');
      if (check.code === 0) return 'password';
      if (/incorrect password|try again/i.test(check.stderr)) throw new BecomeError(`become failed: sudo rejected the become password`);
      throw new BecomeError(`become failed: ${firstSudoLine(check.stderr)}`);
    }
    throw new BecomeError(`become failed: ${firstSudoLine(why)}`);
  }

  /** The user a become option resolves to, or undefined when commands run as the login user. */
  protected becomeTarget(become: boolean | string | undefined): string | undefined {
    const user = become === true ? 'root' : become || undefined;
    return user === this.loginUser ? undefined : user;
  }

  async writeFile(path: string, content: Buffer | string, options: WriteFileOptions = {}): Promise<void> {
    validateWrite(path, options);
    return this.writeFileWithShell(path, content, options);
  }

  /** Works everywhere, including through sudo: one exec, content on stdin. */
  protected async writeFileWithShell(path: string, content: Buffer | string, options: WriteFileOptions): Promise<void> {
    const target = quote(path);
    const template = quote(posix.join(posix.dirname(path), `.${posix.basename(path)}.plumb-XXXXXXXX`));
    const lines = [
      'set -e',
      `tmp=$(mktemp ${template})`,
      `trap 'rm -f "$tmp"' EXIT`,
      'cat > "$tmp"',
      options.mode !== undefined
        ? `chmod ${quote(options.mode)} "$tmp"`
        : // No mode asked: keep the current file's mode, or the usual 0644 for a new file.
          `if [ -e ${target} ]; then chmod --reference=${target} "$tmp"; else chmod 0644 "$tmp"; fi`,
    ];
    // `--`: an owner is never read as an option, whatever reached here.
    if (options.owner !== undefined && options.group !== undefined) lines.push(`chown -- ${quote(`${options.owner}:${options.group}`)} "$tmp"`);
    else if (options.owner !== undefined) lines.push(`chown -- ${quote(options.owner)} "$tmp"`);
    else if (options.group !== undefined) lines.push(`chgrp -- ${quote(options.group)} "$tmp"`);
    else lines.push(`if [ -e ${target} ]; then chown --reference=${target} "$tmp" 2>/dev/null || true; fi`);
    // -T: never move the file *into* a directory that happens to have the target's name.
    lines.push(`mv -f -T "$tmp" ${target}`, 'trap - EXIT');
    const result = await this.exec(lines.join('\n'), {
      stdin: toBuffer(content) ?? Buffer.alloc(0),
      become: options.become,
      label: `write ${path}`,
    });
    if (result.code !== 0) {
      const reason = result.stderr.trim().split('\n').pop() || `exit code ${result.code ?? result.signal}`;
      throw new Error(`writing ${path} failed: ${reason}`);
    }
  }
}

export function validateWrite(path: string, options: WriteFileOptions): void {
  if (!path.startsWith('/')) throw new Error(`writeFile needs an absolute path, got ${JSON.stringify(path)}`);
  if (path.endsWith('/')) throw new Error(`writeFile needs a file path, got the directory ${JSON.stringify(path)}`);
  if (path.includes('\0')) throw new ShellQuoteError('a NUL byte cannot be part of a path');
  if (options.mode !== undefined && !/^0?[0-7]{3,4}$/.test(options.mode)) {
    throw new Error(`invalid mode ${JSON.stringify(options.mode)}: expected an octal string such as "0644"`);
  }
}

function firstSudoLine(stderr: string): string {
  const line = stderr
    .trim()
    .split('\n')
    .find((l) => l.trim() !== '');
  return line ? line.trim() : 'sudo failed without a message';
}
