/**
 * Ansible Vault decryption against the real ansible-vault: whole files and
 * inline `!vault` values, formats 1.1 and 1.2, several passwords and labels,
 * unicode and multi-line plaintexts compared byte for byte; then what must
 * fail, and fail clearly: wrong password, tampered HMAC or ciphertext,
 * truncated data, unknown label, malformed headers.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiagnosticList } from '../../src/source/diagnostics.js';
import { decryptVault, VaultContext, VaultError, type VaultSecret } from '../../src/source/vault.js';
import { readYaml } from '../../src/source/yaml.js';
import { encryptFiles, encryptStrings, runVaultOracle, vaultDir, type Password } from '../vault-oracle.js';

const passwords: Password[] = [
  { label: 'default', password: 'correct horse battery staple', fileText: 'correct horse battery staple\n' },
  // Ansible strips whitespace around a password file's content; the inner space stays.
  { label: 'dev', password: 'Pässwörd ∑ zwei', fileText: '  Pässwörd ∑ zwei \r\n\n' },
  { label: 'prod', password: 'x', fileText: 'x' },
];
const [pDefault, pDev, pProd] = passwords;

/** Plaintexts of whole files: ASCII, unicode multi-line, a whole AES block (full padding block), one byte, 20 KiB. */
const filePlaintexts: Record<string, string> = {
  ascii: 'db_password: "plain ascii value"\n',
  unicode: 'greeting: "Grüße, 世界 🙂"\nlines: |\n  eins\n  zwei\n',
  block: '0123456789abcdef',
  onebyte: 'a',
  large: Array.from({ length: 800 }, (_, i) => `k${i}: "value number ${i} ${'é'.repeat(i % 7)}"`).join('\n') + '\n',
};

/** Inline values: spaces, unicode, multi-line with trailing newline, a leading dash, YAML-looking text. */
const inlinePlaintexts: Record<string, string> = {
  spaced: 'a value with spaces',
  unicode: 'Ünïcödé ∑ 秘密 🔑',
  multiline: 'line one\nline two\n\nline four\n',
  dashed: '-starts-with-dash',
  yamlish: 'key: [not, a, list] # not a comment',
};

let dir: string;
const secretOf = (p: Password, label = p.label): VaultSecret => ({ label, password: Buffer.from(p.password, 'utf8'), source: `${p.label}.pass` });
const vaultFile = (p: Password, name: string) => join(dir, `${p.label}-${name}.vault`);
const inlineFile = (p: Password) => join(dir, `${p.label}-inline.yaml`);

if (!runVaultOracle) console.warn('vault oracle tests skipped: ansible-vault (ansible-core) is not installed');

describe.skipIf(!runVaultOracle)('Ansible Vault against the real ansible-vault', { timeout: 60_000 }, () => {
  beforeAll(() => {
    dir = vaultDir(passwords);
    for (const p of passwords) {
      const files = Object.entries(filePlaintexts).map(([name, text]) => {
        writeFileSync(vaultFile(p, name), text);
        return vaultFile(p, name);
      });
      encryptFiles(dir, p, files);
      writeFileSync(inlineFile(p), encryptStrings(dir, p, inlinePlaintexts));
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('whole files decrypt to the exact bytes', () => {
    for (const p of passwords) {
      for (const [name, text] of Object.entries(filePlaintexts)) {
        it(`${p.label} (${p.label === 'default' ? '1.1' : '1.2'}): ${name}`, () => {
          const data = readFileSync(vaultFile(p, name), 'utf8');
          expect(data.split('\n')[0]).toBe(p.label === 'default' ? '$ANSIBLE_VAULT;1.1;AES256' : `$ANSIBLE_VAULT;1.2;AES256;${p.label}`);
          expect(decryptVault(data, [secretOf(p)]).equals(Buffer.from(text, 'utf8'))).toBe(true);
        });
      }
    }
  });

  describe('inline !vault values decrypt to the exact text, in YAML', () => {
    for (const p of passwords) {
      it(`${p.label}: every value`, () => {
        const diags = new DiagnosticList();
        diags.vault = new VaultContext([secretOf(p)]);
        const src = readYaml(inlineFile(p), diags, 'vars file');
        expect(diags.items).toEqual([]);
        expect(src?.value).toEqual(inlinePlaintexts);
        // Each is a secret from now on: collected for the variables, hidden in load errors.
        for (const v of Object.values(inlinePlaintexts)) {
          expect(diags.vault.values.has(v)).toBe(true);
          expect(diags.redactor.redact(`x ${v} y`)).not.toContain(v);
        }
      });
    }
  });

  describe('which password is tried', () => {
    it('1.2: the password with the label is used among wrong ones', () => {
      const wrong = { label: 'other', password: Buffer.from('not it'), source: 'x' };
      const out = decryptVault(readFileSync(vaultFile(pDev, 'ascii'), 'utf8'), [wrong, secretOf(pDev)]);
      expect(out.toString()).toBe(filePlaintexts.ascii);
    });
    it('1.2: as in Ansible, a password under another label is tried too (the label is only a hint)', () => {
      const out = decryptVault(readFileSync(vaultFile(pDev, 'unicode'), 'utf8'), [secretOf(pDev, 'elsewhere')]);
      expect(out.toString()).toBe(filePlaintexts.unicode);
    });
    it('1.1 (no label): every password is tried in order', () => {
      const out = decryptVault(readFileSync(vaultFile(pDefault, 'block'), 'utf8'), [secretOf(pProd), secretOf(pDev), secretOf(pDefault)]);
      expect(out.toString()).toBe(filePlaintexts.block);
    });
  });

  describe('refused with a clear error, never a garbled value', () => {
    const data = () => readFileSync(vaultFile(pDev, 'unicode'), 'utf8');
    const fails = (text: string, secrets: VaultSecret[], message: RegExp) => {
      let err: unknown;
      try {
        decryptVault(text, secrets);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VaultError);
      expect((err as Error).message).toMatch(message);
      for (const s of secrets) expect((err as Error).message).not.toContain(s.password.toString());
    };
    /** Re-encode the envelope with one inner field changed. */
    const tamper = (text: string, field: 0 | 1 | 2, edit: (hex: string) => string) => {
      const [header, ...lines] = text.trim().split('\n');
      const inner = Buffer.from(lines.join(''), 'hex').toString('latin1').split('\n');
      inner[field] = edit(inner[field]);
      const hex = Buffer.from(inner.join('\n'), 'latin1').toString('hex');
      return `${header}\n${hex.match(/.{1,80}/g)!.join('\n')}\n`;
    };
    const flip = (hex: string, at: number) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);

    it('wrong password', () => fails(data(), [secretOf({ ...pDev, password: 'Pässwörd ∑ zwe1' })], /none of the vault passwords given decrypts it/));
    it('wrong password among several, all named by label', () => fails(data(), [secretOf(pDefault), secretOf(pProd)], /tried vault ids default, prod/));
    it('unknown label: says which vault id the data wants', () => fails(data(), [secretOf(pDefault)], /encrypted with vault id "dev", and no --vault-id dev@FILE was given/));
    it('no password at all', () => fails(data(), [], /no vault password given \(use --vault-password-file/));
    it('tampered HMAC (one digit)', () =>
      fails(
        tamper(data(), 1, (h) => flip(h, 10)),
        [secretOf(pDev)],
        /wrong password, or the data was changed/,
      ));
    it('tampered ciphertext (one digit)', () =>
      fails(
        tamper(data(), 2, (h) => flip(h, 3)),
        [secretOf(pDev)],
        /wrong password, or the data was changed/,
      ));
    it('tampered salt (one digit)', () =>
      fails(
        tamper(data(), 0, (h) => flip(h, 0)),
        [secretOf(pDev)],
        /wrong password, or the data was changed/,
      ));
    it('truncated: last line cut off', () => {
      const lines = data().trim().split('\n');
      fails(lines.slice(0, -1).join('\n'), [secretOf(pDev)], /malformed vault data/);
    });
    it('truncated: half a hex byte', () => fails(data().trim().slice(0, -1), [secretOf(pDev)], /malformed vault data/));
    it('truncated: ciphertext one AES block short', () =>
      fails(
        tamper(data(), 2, (h) => h.slice(0, -32)),
        [secretOf(pDev)],
        /wrong password, or the data was changed/,
      ));
    it('truncated: ciphertext not whole blocks', () =>
      fails(
        tamper(data(), 2, (h) => h.slice(0, -2)),
        [secretOf(pDev)],
        /not a whole number of AES blocks/,
      ));
    it('header only', () => fails('$ANSIBLE_VAULT;1.1;AES256\n', [secretOf(pDev)], /malformed vault data/));
    it('not hexadecimal', () => fails(data().replace(/\n3/, '\nz'), [secretOf(pDev)], /not hexadecimal/));
    it('unknown format version', () => fails(data().replace('1.2;', '1.3;'), [secretOf(pDev)], /unsupported vault format version "1.3"/));
    it('unknown cipher', () => fails(data().replace('AES256', 'AES128'), [secretOf(pDev)], /unsupported vault cipher "AES128"/));
    it('1.2 without its label', () => fails(data().replace(';dev', ''), [secretOf(pDev)], /malformed vault header/));
  });

  describe('errors in YAML files name the file and, inline, the position', () => {
    const load = (file: string, secrets: VaultSecret[], lenient = false) => {
      const diags = new DiagnosticList();
      diags.vault = new VaultContext(secrets, lenient);
      const src = readYaml(file, diags, 'vars file');
      return { src, diags };
    };
    it('a whole file with the wrong password', () => {
      const { src, diags } = load(vaultFile(pDefault, 'ascii'), [secretOf(pDev)]);
      expect(src).toBeUndefined();
      expect(diags.items).toMatchObject([{ severity: 'error', file: vaultFile(pDefault, 'ascii'), line: 1, column: 1 }]);
      expect(diags.items[0].message).toMatch(/^cannot decrypt vars file \(encrypted with ansible-vault\): none of the vault passwords given decrypts it/);
    });
    it('inline values with the wrong password: one error per value, at its line', () => {
      const { src, diags } = load(inlineFile(pProd), [secretOf(pDev)]);
      expect(src).toBeUndefined();
      const text = readFileSync(inlineFile(pProd), 'utf8').split('\n');
      expect(diags.items.map((d) => [d.path, text[d.line - 1].startsWith(`${d.path}: !vault`)])).toEqual(Object.keys(inlinePlaintexts).map((k) => [k, true]));
      for (const d of diags.items) expect(d.message).toMatch(/^cannot decrypt the vault value: .*encrypted with vault id "prod"/);
    });
    it('validate without a password: inline values are warnings with a placeholder', () => {
      const { src, diags } = load(inlineFile(pDev), [], true);
      expect(diags.items.map((d) => d.severity)).toEqual(Object.keys(inlinePlaintexts).map(() => 'warning'));
      expect(Object.values(src!.value as object)).toEqual(Object.keys(inlinePlaintexts).map(() => 'vault-value-not-decrypted'));
    });
    it('validate without a password: a whole file is an error', () => {
      const { src, diags } = load(vaultFile(pDev, 'ascii'), [], true);
      expect(src).toBeUndefined();
      expect(diags.items[0].message).toMatch(/no vault password given, and its variables cannot be checked without it/);
    });
    it('a whole file decrypts, is parsed, and its values are secrets', () => {
      const { src, diags } = load(vaultFile(pDev, 'unicode'), [secretOf(pDev)]);
      expect(diags.items).toEqual([]);
      expect(src?.value).toEqual({ greeting: 'Grüße, 世界 🙂', lines: 'eins\nzwei\n' });
      expect([...diags.vault!.values]).toEqual(['Grüße, 世界 🙂', 'eins\nzwei\n']);
      // The decrypted text is never kept for caret excerpts.
      expect(diags.sources.has(vaultFile(pDev, 'unicode'))).toBe(false);
    });
    it('a whole file whose YAML is broken: the message does not quote it', () => {
      const file = join(dir, 'broken.vault');
      writeFileSync(file, 'key: "unterminated secret-ish text\n');
      encryptFiles(dir, pDefault, [file]);
      const { diags } = load(file, [secretOf(pDefault)]);
      expect(diags.items.length).toBeGreaterThan(0);
      for (const d of diags.items) {
        expect(d.message).toMatch(/^vars file \(decrypted\): /);
        expect(d.message).not.toContain('unterminated');
      }
    });
    it('a whole file with short, boolean and empty values: each named, none shown', () => {
      const file = join(dir, 'short.vault');
      writeFileSync(file, 'vault_pin: "123"\nvault_on: true\nvault_none:\nvault_port: 5432\nvault_ok: long-enough\n');
      encryptFiles(dir, pDefault, [file]);
      const { src, diags } = load(file, [secretOf(pDefault)]);
      expect(src).toBeUndefined();
      expect(diags.items.map((d) => d.path)).toEqual(['vault_pin', 'vault_on', 'vault_none']);
      expect(diags.items[0].message).toMatch(/vault_pin is shorter than 4 characters/);
      expect(diags.items[1].message).toMatch(/vault_on is a boolean, which cannot be hidden/);
      for (const d of diags.items) expect(d.message).not.toContain('123');
    });
    it('an inline value shorter than 4 characters is refused, naming it', () => {
      const file = join(dir, 'short-inline.yaml');
      writeFileSync(file, encryptStrings(dir, pDefault, { vault_pin: '123' }));
      const { diags } = load(file, [secretOf(pDefault)]);
      expect(diags.items).toMatchObject([{ severity: 'error', path: 'vault_pin', line: 1 }]);
      expect(diags.items[0].message).toMatch(/its decrypted value is shorter than 4 characters/);
    });
    it('an inline value holding template syntax is refused (Ansible never renders one; plumb does not guess)', () => {
      const file = join(dir, 'template-inline.yaml');
      writeFileSync(file, encryptStrings(dir, pDefault, { vault_t: 'pre{{ other }}post' }));
      const { diags } = load(file, [secretOf(pDefault)]);
      expect(diags.items[0].message).toMatch(/contains "\{\{", "\{%" or "\{#"/);
      expect(diags.items[0].message).not.toContain('pre');
    });
    it('a !vault tag on text that is not vault data', () => {
      const file = join(dir, 'not-vault.yaml');
      writeFileSync(file, 'x: !vault "hello there"\n');
      const { diags } = load(file, [secretOf(pDefault)]);
      expect(diags.items).toMatchObject([{ severity: 'error', path: 'x', line: 1, column: 11 }]);
    });
    it('a whole file copied under another name keeps working (the label is in the data)', () => {
      const copy = join(dir, 'copy.vault');
      copyFileSync(vaultFile(pProd, 'ascii'), copy);
      expect(load(copy, [secretOf(pDefault), secretOf(pProd)]).diags.items).toEqual([]);
    });
  });
});
