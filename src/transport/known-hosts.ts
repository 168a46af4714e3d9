/**
 * OpenSSH known_hosts files: lookup and recording of host keys.
 *
 * There is no maintained npm package for this format, so the rules live here:
 * plain names, comma lists, `[host]:port`, `*`/`?` wildcards, `!negation`,
 * `@revoked` markers and hashed `|1|salt|hmac` names. `@cert-authority` lines
 * are ignored (ssh2 does not verify host certificates).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { PlumbError } from '../errors.js';
import { isDevNullPath, LocalFileError, READ_LIMITS, readLimited } from '../local-file.js';
import { LOCK_WAIT_MS, withLockFile } from './lockfile.js';

export interface KnownHostEntry {
  file: string;
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** Plain pattern list, or undefined for a hashed entry. */
  patterns?: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  { status: 'known'; entry: KnownHostEntry } | { status: 'unknown' } | { status: 'changed'; expected: KnownHostEntry[] } | { status: 'revoked'; entry: KnownHostEntry };

/** `SHA256:` + unpadded base64, exactly as `ssh-keygen -l` prints it. */
export function fingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** The key type written inside an SSH public key blob (first length-prefixed string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  if (len > key.length - 4) return 'unknown';
  return key.subarray(4, 4 + len).toString('latin1');
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** Compiled once per pattern: every host of a run is matched against the same known_hosts lines. */
const compiled = new Map<string, RegExp>();

function globToRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp('^' + body + '$', 'i');
    compiled.set(pattern, re);
  }
  return re;
}

/** OpenSSH's match_hostname: any positive pattern matches and no negated one does. */
export function matchPatternList(name: string, patterns: string[]): boolean {
  let matched = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (globToRegExp(pattern).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function hashName(salt: Buffer, name: string): Buffer {
  return createHmac('sha1', salt).update(name).digest();
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return; // unknown marker: OpenSSH ignores the line too
    }
    if (fields.length < 3) return;
    const [hosts, keyType, keyB64] = fields;
    const key = Buffer.from(keyB64, 'base64');
    if (key.length === 0) return;
    const entry: KnownHostEntry = { file, line: index + 1, marker, keyType, key };
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      if (!salt || !hash) return;
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      entry.patterns = hosts.split(',');
    }
    entries.push(entry);
  });
  return entries;
}

function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) return hashName(entry.hashed.salt, name).equals(entry.hashed.hash);
  return matchPatternList(name, entry.patterns!);
}

/** The text of a known_hosts file; '' when it does not exist yet (a first run). */
function readKnownHostsText(file: string): string {
  try {
    return readLimited(file, { limit: READ_LIMITS.knownHosts, what: 'known_hosts file' }).toString('utf8');
  } catch (err) {
    if (err instanceof LocalFileError && err.code === 'ENOENT') return '';
    throw err;
  }
}

/** A plain name without wildcards or negation: it matches exactly one host name, so it can be looked up. */
const LITERAL_PATTERN = /^[\x21-\x7e]+$/;
const isLiteral = (pattern: string) => LITERAL_PATTERN.test(pattern) && !/[*?]/.test(pattern) && !pattern.startsWith('!');

/**
 * The entries, arranged for lookups. A fleet's known_hosts has a few lines per host, and
 * every host of a run is looked up (twice: key types, then the key); scanning every line
 * each time made N hosts cost N² pattern tests (issue 16: ~0.9 ms per host at 1,000 hosts
 * with 3 keys each, 1.7 ms at 2,000). Plain names are found through a map; wildcard,
 * negated and hashed lines are still tested one by one (a hashed line can only be
 * tested: each has its own salt, one HMAC-SHA1 per line and name; a line that matched
 * one name is not tested against others).
 */
interface EntryIndex {
  position: Map<KnownHostEntry, number>;
  byName: Map<string, KnownHostEntry[]>;
  tested: KnownHostEntry[];
  revoked: KnownHostEntry[];
}

function indexEntries(entries: readonly KnownHostEntry[]): EntryIndex {
  const index: EntryIndex = { position: new Map(), byName: new Map(), tested: [], revoked: [] };
  entries.forEach((entry, i) => {
    index.position.set(entry, i);
    if (entry.marker === 'revoked') index.revoked.push(entry);
    if (entry.marker) return;
    if (!entry.patterns || !entry.patterns.every(isLiteral)) return void index.tested.push(entry);
    for (const name of new Set(entry.patterns.map((p) => p.toLowerCase()))) {
      const list = index.byName.get(name);
      if (list) list.push(entry);
      else index.byName.set(name, [entry]);
    }
  });
  return index;
}

export class KnownHosts {
  private entries: KnownHostEntry[] = [];
  private index: EntryIndex | undefined;
  /** The (unmarked) entries for each name looked up so far, in file order. */
  private readonly forName = new Map<string, KnownHostEntry[]>();
  /** The name each hashed line turned out to hold, once a lookup matched it. */
  private readonly hashedName = new Map<KnownHostEntry, string>();

  /** Missing files are fine (a first run); unreadable ones are an error. */
  constructor(readonly files: string[]) {
    for (const file of files) this.remember(...parseKnownHosts(readKnownHostsText(file), file));
  }

  private remember(...entries: KnownHostEntry[]): void {
    this.entries.push(...entries);
    this.index = undefined;
    this.forName.clear();
  }

  /** What a scan of every line for `name` finds, in the same order. */
  private entriesFor(name: string): KnownHostEntry[] {
    let found = this.forName.get(name);
    if (found) return found;
    const index = (this.index ??= indexEntries(this.entries));
    const tested = index.tested.filter((e) => {
      if (!e.hashed) return entryMatches(e, name);
      // A hashed line that matched one name cannot match another (that would be an HMAC-SHA1 collision).
      const known = this.hashedName.get(e);
      if (known !== undefined) return known === name;
      const matches = entryMatches(e, name);
      if (matches) this.hashedName.set(e, name);
      return matches;
    });
    found = [...(index.byName.get(name) ?? []), ...tested];
    if (found.length > 1) found.sort((a, b) => index.position.get(a)! - index.position.get(b)!);
    this.forName.set(name, found);
    return found;
  }

  /** Key types known for this host, so the key exchange can ask for one of them first. */
  knownKeyTypes(host: string, port: number): string[] {
    return [...new Set(this.entriesFor(knownHostsName(host, port)).map((e) => e.keyType))];
  }

  verify(host: string, port: number, key: Buffer): HostKeyVerdict {
    const name = knownHostsName(host, port);
    const index = (this.index ??= indexEntries(this.entries));
    return verdictOf(index.revoked, this.entriesFor(name), key);
  }

  /**
   * Record a first-seen key in `file`, hashed if that file already uses hashed
   * names. Callers must only do this for `unknown` verdicts: a changed key is
   * never replaced.
   *
   * Several plumb runs may record the same key at once: under `FILE.lock` the
   * file is read again and only a key still missing is appended. A key that
   * another run recorded differently meanwhile is refused (KnownHostsError).
   */
  add(host: string, port: number, key: Buffer, file: string, options: { lockWaitMs?: number } = {}): void {
    const name = knownHostsName(host, port);
    const keyType = keyTypeOf(key);
    const entry: KnownHostEntry = { file, line: 0, keyType, key, patterns: [name] };
    if (isDevNullPath(file)) {
      // UserKnownHostsFile=/dev/null: trusted for this run, recorded nowhere.
      this.remember(entry);
      return;
    }
    if (!existsSync(dirname(file))) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    withLockFile(`${file}.lock`, options.lockWaitMs ?? LOCK_WAIT_MS, () => {
      const existing = readKnownHostsText(file);
      const now = verdict(parseKnownHosts(existing, file), name, key);
      if (now.status === 'known') {
        this.remember(now.entry);
        return;
      }
      if (now.status === 'revoked') throw new KnownHostsError(`host key of ${name} was revoked in ${file}:${now.entry.line} while it was being recorded; not trusted`);
      if (now.status === 'changed') {
        const where = now.expected.map((e) => `${e.file}:${e.line}`).join(', ');
        throw new KnownHostsError(`HOST KEY CHANGED for ${name}: another run recorded a different key (${where}) while this one was being recorded; nothing was sent`);
      }
      let hostField = name;
      if (/^\s*(@\S+\s+)?\|1\|/m.test(existing)) {
        const salt = randomBytes(20);
        const hash = hashName(salt, name);
        hostField = `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
        entry.hashed = { salt, hash };
        entry.patterns = undefined;
      }
      const prefix = existing !== '' && !existing.endsWith('\n') ? '\n' : '';
      appendFileSync(file, `${prefix}${hostField} ${keyType} ${key.toString('base64')}\n`, { mode: 0o600 });
      entry.line = (existing + prefix).split('\n').length;
      this.remember(entry);
    });
  }
}

class KnownHostsError extends PlumbError {}

function verdict(entries: KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  return verdictOf(
    entries.filter((e) => e.marker === 'revoked'),
    entries.filter((e) => !e.marker && entryMatches(e, name)),
    key,
  );
}

/** `revoked`: every @revoked line; `forHost`: the unmarked lines for the host's name, in file order. */
function verdictOf(revokedEntries: KnownHostEntry[], forHost: KnownHostEntry[], key: Buffer): HostKeyVerdict {
  const revoked = revokedEntries.find((e) => e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const exact = forHost.find((e) => e.key.equals(key));
  if (exact) return { status: 'known', entry: exact };
  // Any other key recorded for this name means the host now shows a different
  // key than the one trusted: refuse, whatever the type (strict, like OpenSSH).
  if (forHost.length > 0) return { status: 'changed', expected: forHost };
  return { status: 'unknown' };
}

/** Host key algorithm names that a known_hosts key type can be offered under. */
export function algorithmsForKeyType(keyType: string): string[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [keyType];
}
