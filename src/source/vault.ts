/**
 * Ansible Vault (`$ANSIBLE_VAULT;1.1;AES256` and `$ANSIBLE_VAULT;1.2;AES256;<id>`),
 * decrypted with Node's crypto. The envelope: a header line, then hex lines;
 * the hex decodes to three newline-separated hex fields — salt, HMAC-SHA256
 * of the ciphertext, AES-256-CTR ciphertext of the PKCS#7-padded plaintext.
 * PBKDF2-HMAC-SHA256 (10000 rounds) of the password and salt gives 80 bytes:
 * cipher key, HMAC key, counter block. The HMAC is checked (in constant time)
 * before anything is decrypted, so a wrong password or tampered data is an
 * error, never a garbled value.
 */
import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

const HEADER = '$ANSIBLE_VAULT;';
const ROUNDS = 10000;
const BLOCK = 16;

export class VaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaultError';
  }
}

/** One password, as `--vault-id label@source` gives it; Ansible's label when none is given is "default". */
export interface VaultSecret {
  label: string;
  password: Buffer;
  /** Where it came from, for messages ("password file ~/.vault_pass"); never the password. */
  source: string;
}

interface Envelope {
  version: '1.1' | '1.2';
  label?: string;
  salt: Buffer;
  hmac: Buffer;
  ciphertext: Buffer;
}

/** Whether `text` is vault data (the header Ansible checks for). */
export function isVaultText(text: string): boolean {
  return text.startsWith(HEADER);
}

function parseEnvelope(text: string): Envelope {
  const lines = text.split(/\r?\n/);
  const header = lines[0].trim().split(';');
  const [, version, cipher, label] = header.map((s) => s.trim());
  if (version !== '1.1' && version !== '1.2') throw new VaultError(`unsupported vault format version ${JSON.stringify(version ?? '')} (plumb reads 1.1 and 1.2)`);
  if (cipher !== 'AES256') throw new VaultError(`unsupported vault cipher ${JSON.stringify(cipher ?? '')} (plumb reads AES256)`);
  if (header.length > 4 || (version === '1.2' && !label)) throw new VaultError('malformed vault header');
  const body = lines
    .slice(1)
    .map((l) => l.trim())
    .join('');
  const outer = unhex(body, 'the vault data');
  const fields = outer.toString('latin1').split('\n');
  if (fields.length !== 3) throw new VaultError('malformed vault data: expected salt, HMAC and ciphertext (is it truncated?)');
  const [salt, hmac, ciphertext] = fields.map((f, i) => unhex(f, ['the salt', 'the HMAC', 'the ciphertext'][i]));
  if (hmac.length !== 32) throw new VaultError('malformed vault data: the HMAC is not 32 bytes (is it truncated?)');
  if (ciphertext.length === 0 || ciphertext.length % BLOCK !== 0)
    throw new VaultError('malformed vault data: the ciphertext is not a whole number of AES blocks (is it truncated?)');
  return { version, label: version === '1.2' ? label : undefined, salt, hmac, ciphertext };
}

function unhex(text: string, what: string): Buffer {
  if (text.length === 0 || text.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(text)) {
    throw new VaultError(`malformed vault data: ${what} is not ${text.length % 2 ? 'whole bytes of ' : ''}hexadecimal (is it truncated or edited?)`);
  }
  return Buffer.from(text, 'hex');
}

/** The plaintext when `password` is the one the data was encrypted with, else undefined. */
function tryDecrypt(env: Envelope, password: Buffer): Buffer | undefined {
  const keys = pbkdf2Sync(password, env.salt, ROUNDS, 80, 'sha256');
  const expected = createHmac('sha256', keys.subarray(32, 64)).update(env.ciphertext).digest();
  if (!timingSafeEqual(expected, env.hmac)) return undefined;
  const decipher = createDecipheriv('aes-256-ctr', keys.subarray(0, 32), keys.subarray(64, 80));
  const padded = Buffer.concat([decipher.update(env.ciphertext), decipher.final()]);
  return unpad(padded);
}

function unpad(padded: Buffer): Buffer {
  const n = padded[padded.length - 1];
  const ok = n >= 1 && n <= BLOCK && padded.subarray(padded.length - n).every((b) => b === n);
  // The HMAC matched, so this is what was encrypted: bad padding means a broken encryptor, not a wrong password.
  if (!ok) throw new VaultError('the decrypted data has invalid padding');
  return padded.subarray(0, padded.length - n);
}

/**
 * Decrypt vault text. As Ansible does by default: a 1.2 envelope's label picks
 * the passwords tried first, then every other password is tried (the label is
 * not authenticated; it is only a hint). Throws VaultError without the password.
 */
export function decryptVault(text: string, secrets: readonly VaultSecret[]): Buffer {
  const env = parseEnvelope(text);
  if (!secrets.length) throw new VaultError('no vault password given (use --vault-password-file FILE, --vault-id [LABEL@]FILE or --ask-vault-pass)');
  const ordered = env.label ? [...secrets.filter((s) => s.label === env.label), ...secrets.filter((s) => s.label !== env.label)] : secrets;
  for (const s of ordered) {
    const plain = tryDecrypt(env, s.password);
    if (plain) return plain;
  }
  const labels = [...new Set(secrets.map((s) => s.label))].join(', ');
  const missing = env.label && !secrets.some((s) => s.label === env.label) ? `; it was encrypted with vault id "${env.label}", and no --vault-id ${env.label}@FILE was given` : '';
  throw new VaultError(
    `none of the vault passwords given decrypts it (wrong password, or the data was changed; tried vault id${secrets.length === 1 ? '' : 's'} ${labels})${missing}`,
  );
}

/** Decrypted bytes as text: plumb's variables are text, so binary data is refused (naming no byte of it). */
export function checkPlaintext(bytes: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new VaultError('its decrypted data is not UTF-8 text');
  }
  if (text.includes('\0')) throw new VaultError('its decrypted data contains a NUL byte, which can never be passed to a command');
  return text;
}

/**
 * What a load needs to read vault data: the passwords, whether a missing one
 * is an error (plan, apply) or a warning (validate), and every decrypted
 * value, collected so that the variables holding them become secrets.
 */
export class VaultContext {
  /** Every decrypted text leaf (and number, as text): each is a secret. */
  readonly values = new Set<string>();

  constructor(
    readonly secrets: readonly VaultSecret[] = [],
    /** validate without a password: inline values get a placeholder and a warning. */
    readonly lenient = false,
  ) {}

  get hasPasswords(): boolean {
    return this.secrets.length > 0;
  }
}

/** What validate puts in place of an inline value it cannot decrypt (text that passes most argument rules). */
export const VAULT_PLACEHOLDER = 'vault-value-not-decrypted';
