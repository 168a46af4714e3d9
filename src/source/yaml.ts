/**
 * YAML files with source positions. Every node keeps its range, so any key
 * path can be turned back into file:line:column for an error message.
 */
import { createHash } from 'node:crypto';
import { LocalFileError, READ_LIMITS, readLimited } from '../local-file.js';
import { MIN_SECRET_LENGTH, shortSecretMessage } from '../redactor.js';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair } from 'yaml';
import { DiagnosticList } from './diagnostics.js';
import type { SourcePos } from './pos.js';
import { checkPlaintext, decryptVault, isVaultText, VAULT_PLACEHOLDER, VaultContext, VaultError } from './vault.js';

/**
 * Playbooks and inventories are hand-written; anything this large is generated
 * or wrong, and refusing it up front keeps every answer under a second (the
 * YAML parser needs ~0.6 s per MiB of playbook here).
 */
export const MAX_YAML_BYTES = READ_LIMITS.yaml;

export type PathPart = string | number;

export interface YamlSource {
  file: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** The plain JS value of the document (null for an empty one). */
  value: unknown;
}

/** Read and parse one YAML file; problems go to `diags`, `undefined` when nothing usable was read. */
export function readYaml(file: string, diags: DiagnosticList, what: string): YamlSource | undefined {
  const at = { file, line: 1, column: 1 };
  let bytes: Buffer;
  try {
    bytes = readLimited(file, { limit: MAX_YAML_BYTES, what });
  } catch (err) {
    if (!(err instanceof LocalFileError)) throw err;
    if (err.code === 'TOOLARGE') {
      const size = err.size !== undefined ? formatSize(err.size) : `larger than ${formatSize(MAX_YAML_BYTES)}`;
      diags.error(at, `${what} is ${size}; plumb reads YAML files up to ${formatSize(MAX_YAML_BYTES)} (is this the right file?)`);
    } else {
      diags.error(at, `cannot read ${what}: ${err.reason}`);
    }
    return undefined;
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    diags.error(bytePos(file, bytes, bad), `${what} is not valid UTF-8 (byte 0x${bytes[bad].toString(16).padStart(2, '0')} at offset ${bad}); save it as UTF-8`);
    return undefined;
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    diags.error(bytePos(file, bytes, nul), `${what} contains a NUL byte (offset ${nul}): ${NUL_REASON}`);
    return undefined;
  }
  diags.files.push({ path: file, sha256: createHash('sha256').update(bytes).digest('hex') });
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // A whole file encrypted with ansible-vault: its decrypted text is never kept for excerpts.
  if (isVaultText(text)) return readVaultFile(file, text, diags, what);
  diags.sources.set(file, text);
  return parseYaml(file, text, diags, what);
}

export function parseYaml(file: string, text: string, diags: DiagnosticList, what: string): YamlSource | undefined {
  const lines = new LineCounter();
  // Duplicate keys are found below with the line of the first definition.
  // `merge`: Ansible users share defaults with `<<: *anchor`.
  // `!vault |` scalars (inline ansible-vault values) are decrypted below, where their positions are known.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, merge: true, customTags: [VAULT_TAG] });
  const src: YamlSource = { file, text, doc, lines, value: null };
  let broken = false;
  for (const e of doc.errors) {
    broken = true;
    const { line, col } = lines.linePos(e.pos[0]);
    diags.error({ file, line, column: col, length: Math.max(1, e.pos[1] - e.pos[0]) }, yamlErrorMessage(e.code, e.message));
  }
  findDuplicateKeys(src, diags);
  if (broken) return undefined;
  if (findNulEscapes(src, diags)) return undefined;
  if (!decryptVaultScalars(src, diags)) return undefined;
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    diags.error({ file, line: 1, column: 1 }, `${what} is empty`);
    return undefined;
  }
  try {
    src.value = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    diags.error({ file, line: 1, column: 1 }, `cannot read ${what}: ${(err as Error).message}`);
    return undefined;
  }
  return src;
}

function yamlErrorMessage(code: string, message: string): string {
  const first = message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  switch (code) {
    case 'TAB_AS_INDENT':
      return 'tab character used for indentation: YAML allows only spaces';
    case 'MULTIPLE_DOCS':
      return 'more than one YAML document in this file (remove the extra `---`)';
    default:
      return `invalid YAML: ${first}`;
  }
}

function findDuplicateKeys(src: YamlSource, diags: DiagnosticList): void {
  visit(src.doc, {
    Map(_key, map) {
      const seen = new Map<string, Node>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const name = String(pair.key.value);
        const first = seen.get(name);
        if (first) {
          const pos = src.lines.linePos(first.range![0]);
          diags.error({ ...posOf(src, pair.key), length: name.length }, `duplicate key "${name}" (first defined at line ${pos.line})`);
        } else {
          seen.set(name, pair.key);
        }
      }
    },
  });
}

// Ansible Vault: encrypted files and `!vault |` values, decrypted with the load's passwords
// (diags.vault). Every decrypted value is collected there, so that the variables holding it
// become secrets, and added to the load's redactor, so that no load error can show it.

const VAULT_TAG = { tag: '!vault', resolve: (text: string) => text };

function vaultOf(diags: DiagnosticList): VaultContext {
  return (diags.vault ??= new VaultContext());
}

function readVaultFile(file: string, text: string, diags: DiagnosticList, what: string): YamlSource | undefined {
  const at = { file, line: 1, column: 1 };
  const vault = vaultOf(diags);
  let plaintext: string;
  try {
    if (!vault.hasPasswords && vault.lenient) throw new VaultError('no vault password given, and its variables cannot be checked without it');
    plaintext = checkPlaintext(decryptVault(text, vault.secrets));
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    diags.error(at, `cannot decrypt ${what} (encrypted with ansible-vault): ${err.message}`);
    return undefined;
  }
  // Parsed on the side: a YAML error message may quote the text, and this text is secret.
  const scratch = new DiagnosticList();
  scratch.vault = vault;
  const src = parseYaml(file, plaintext, scratch, what);
  for (const d of scratch.items) {
    const message = d.message.startsWith('invalid YAML') ? 'invalid YAML in the decrypted text (not quoted here: it is secret; `ansible-vault view` shows it)' : d.message;
    diags.add({ ...d, message: `${what} (decrypted): ${message}` });
  }
  if (!src) return undefined;
  let ok = true;
  const visitLeaf = (v: unknown, path: PathPart[]): void => {
    if (Array.isArray(v)) return v.forEach((x, i) => visitLeaf(x, [...path, i]));
    if (v !== null && typeof v === 'object') return Object.entries(v).forEach(([k, x]) => visitLeaf(x, [...path, k]));
    const why = secretLeafProblem(v, formatPath(path));
    if (why) {
      ok = false;
      diags.error(valuePos(src, src.doc.contents as Node, path), `${what} is encrypted, so each of its values is a secret: ${why}`, formatPath(path));
    } else {
      vault.values.add(String(v));
      diags.redactor.add(String(v), `the vault-encrypted ${formatPath(path)}`);
    }
  };
  visitLeaf(src.value, []);
  return ok ? src : undefined;
}

/** Why a decrypted value cannot be a secret (hidden by its bytes), or undefined when it can. */
function secretLeafProblem(v: unknown, name: string): string | undefined {
  if (typeof v === 'string' || typeof v === 'number') return String(v).length < MIN_SECRET_LENGTH ? shortSecretMessage(name) : undefined;
  return `${name} is ${v === null ? 'empty' : `a ${typeof v}`}, which cannot be hidden by its bytes: keep values that are not secret in a plain vars file`;
}

/** Decrypt every `!vault` scalar in place; false when one could not be. */
function decryptVaultScalars(src: YamlSource, diags: DiagnosticList): boolean {
  let ok = true;
  visit(src.doc, {
    Scalar(_key, node, ancestors) {
      if (node.tag !== '!vault') return;
      const path = nodePath(ancestors, node);
      const where = { ...posOf(src, node), length: 1 };
      const name = 'the vault value';
      const vault = vaultOf(diags);
      if (!vault.hasPasswords && vault.lenient) {
        diags.warning(where, `${name} is not decrypted: no vault password given; validate went on with a placeholder, plan and apply need the password`, formatPath(path));
        node.value = VAULT_PLACEHOLDER;
        vault.values.add(VAULT_PLACEHOLDER);
        return;
      }
      try {
        if (typeof node.value !== 'string' || !isVaultText(node.value))
          throw new VaultError('a !vault value must be the text ansible-vault encrypt_string wrote ($ANSIBLE_VAULT;…)');
        const plaintext = checkPlaintext(decryptVault(node.value, vault.secrets));
        if (plaintext.length < MIN_SECRET_LENGTH) throw new VaultError(shortSecretMessage('its decrypted value'));
        // Ansible never renders a vault value as a template; plumb refuses one that looks like a template rather than guess.
        if (/\{[{%#]/.test(plaintext)) throw new VaultError('its decrypted value contains "{{", "{%" or "{#"; plumb does not take template syntax inside a vault value');
        node.value = plaintext;
        vault.values.add(plaintext);
        diags.redactor.add(plaintext, `the vault value ${formatPath(path)}`);
        diags.redactor.addLines(plaintext);
      } catch (err) {
        if (!(err instanceof VaultError)) throw err;
        ok = false;
        diags.error(where, `cannot decrypt ${name}: ${err.message}`, formatPath(path));
      }
    },
  });
  return ok;
}

/** The key path of a node from its ancestors (as `visit` gives them). */
function nodePath(ancestors: readonly unknown[], node: Node): PathPart[] {
  const chain = [...ancestors, node];
  const out: PathPart[] = [];
  for (let i = 0; i + 1 < chain.length; i++) {
    const [parent, child] = [chain[i], chain[i + 1]];
    if (isPair(parent) && parent.value === child && isScalar(parent.key)) out.push(String(parent.key.value));
    else if (isSeq(parent)) out.push(parent.items.indexOf(child as Node));
  }
  return out;
}

/** Why NUL is refused wherever it enters: argv cannot hold one, so no command could ever receive it. */
export const NUL_REASON = 'a NUL character can never be passed to a command; remove it';

/** Line and column (in characters, like the YAML parser's) of a byte offset. */
function bytePos(file: string, bytes: Buffer, offset: number): SourcePos {
  const before = bytes.subarray(0, offset).toString('utf8');
  return { file, line: before.split('\n').length, column: before.length - before.lastIndexOf('\n') };
}

/** A raw NUL is refused before parsing; this finds the escaped ones ("\0", "\x00", "\u0000", "\U00000000"). */
function findNulEscapes(src: YamlSource, diags: DiagnosticList): boolean {
  let found = false;
  visit(src.doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('\0') || !node.range) return;
      found = true;
      const at = nulEscapeOffset(src.text, node.range[0], node.range[1]);
      const { line, col } = src.lines.linePos(at >= 0 ? at : node.range[0]);
      diags.error({ file: src.file, line, column: col, length: at >= 0 ? 2 : 1 }, `escaped NUL character in a double-quoted string: ${NUL_REASON}`);
    },
  });
  return found;
}

/** Offset of the first escape sequence that decodes to NUL in text[start, end), or -1. */
function nulEscapeOffset(text: string, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    if (text[i] !== '\\') continue;
    const rest = text.slice(i + 1, i + 10);
    if (/^(0|x00|u0000|U00000000)/.test(rest)) return i;
    i++; // skip the escaped character, so `\\0` is a backslash and a 0
  }
  return -1;
}

/** Whether a value read from YAML (or -e) holds a NUL anywhere, keys included. */
export function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\0') || containsNul(v));
  return false;
}

/** Position of a node's start. */
export function posOf(src: YamlSource, node: Node | null | undefined): SourcePos & { length?: number } {
  if (!node?.range) return { file: src.file, line: 1, column: 1 };
  const { line, col } = src.lines.linePos(node.range[0]);
  const length = isScalar(node) ? Math.max(1, node.range[1] - node.range[0]) : 1;
  return { file: src.file, line, column: col, length };
}

export interface Located {
  /** The deepest node the path reached (the value, or its nearest existing parent). */
  node: Node | null;
  /** The key node when the path ends at a mapping entry. */
  key: Node | null;
  /** Whether the whole path exists. */
  exact: boolean;
}

/** The first entry of a mapping whose scalar key reads `name`. */
function firstEntry(items: readonly Pair[], name: string): Pair | undefined {
  return items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === name);
}

/**
 * Large mappings (an inventory's hosts) are searched through an index: every host's
 * position is looked up several times while the inventory is checked, and scanning the
 * entries each time made loading N hosts cost N² (issue 16: ~0.15 s at 1,000 hosts).
 */
const INDEXED_FROM = 16;
const entryIndexes = new WeakMap<readonly Pair[], { length: number; byName: Map<string, Pair> }>();

function entryOf(items: readonly Pair[], name: string): Pair | undefined {
  if (items.length < INDEXED_FROM) return firstEntry(items, name);
  let index = entryIndexes.get(items);
  if (index?.length !== items.length) {
    const byName = new Map<string, Pair>();
    for (const p of items) if (isPair(p) && isScalar(p.key) && !byName.has(String(p.key.value))) byName.set(String(p.key.value), p);
    entryIndexes.set(items, (index = { length: items.length, byName }));
  }
  const hit = index.byName.get(name);
  // The document is not edited after parsing; if a key ever were, the scan stays the answer.
  return hit && isScalar(hit.key) && String(hit.key.value) === name ? hit : firstEntry(items, name);
}

/** Follow a key path from a node; stops at the nearest existing parent when a step is missing. */
export function locate(root: Node | null | undefined, path: readonly PathPart[]): Located {
  let node: Node | null = (root as Node) ?? null;
  let key: Node | null = null;
  for (const part of path) {
    if (isMap(node)) {
      const pair = entryOf(node.items as Pair[], String(part));
      if (!pair) return { node, key, exact: false };
      key = pair.key as Node;
      // `mode:` with nothing after it has no value node; point at the key.
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof part === 'number' && node.items[part]) {
      key = null;
      node = node.items[part] as Node;
    } else {
      return { node, key, exact: false };
    }
  }
  return { node, key, exact: true };
}

/** Position for a problem with the value at `path` (or its nearest parent). */
export function valuePos(src: YamlSource, root: Node | null | undefined, path: readonly PathPart[]): SourcePos & { length?: number } {
  return posOf(src, locate(root, path).node);
}

/** Position of the key of the entry at `path` (for unknown and duplicate keys). */
export function keyPos(src: YamlSource, root: Node | null | undefined, path: readonly PathPart[]): SourcePos & { length?: number } {
  const at = locate(root, path);
  return posOf(src, at.exact && at.key ? at.key : at.node);
}

/** `plays[0].tasks[2].copy.mode` */
export function formatPath(path: readonly PathPart[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

/** Index of the first byte that is not part of a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
