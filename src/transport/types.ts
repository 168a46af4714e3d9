/** The interface every layer above the transport uses; modules never see ssh2. */
import { EXIT, PlumbError } from '../errors.js';

export interface ExecOptions {
  /** Bytes written to the command's stdin, then stdin is closed. */
  stdin?: Buffer | string;
  /** Kill the command and reject with TransportTimeoutError after this many ms. */
  timeoutMs?: number;
  /** Run through sudo (true = root, or a user name). */
  become?: boolean | string;
  /** Shown in timeout errors: "timed out after N s running <label>". */
  label?: string;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface WriteFileOptions {
  /** Octal string such as "0600". */
  mode?: string;
  owner?: string;
  group?: string;
  become?: boolean | string;
}

export interface Transport {
  /** Display name of the host, for errors. */
  readonly host: string;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Write to a temp file beside `path`, set mode/owner, rename into place. */
  writeFile(path: string, content: Buffer | string, options?: WriteFileOptions): Promise<void>;
  close(): Promise<void>;
}

/** A failure that makes the host unreachable (connect, auth, host key, dropped connection). */
export class UnreachableError extends PlumbError {
  override readonly exitCode: number = EXIT.unreachable;

  constructor(
    message: string,
    readonly host: string,
  ) {
    super(message);
  }
}

/** A remote command outlived --task-timeout. */
export class TransportTimeoutError extends PlumbError {}

/** become (sudo) cannot work on this host: no sudo, a password is needed but not given, or it was refused. */
export class BecomeError extends PlumbError {}
