/**
 * Everything a command needs before it contacts a host: the validated
 * playbook, the inventory, -e variables and secrets from --secrets. Loading
 * reads files only; every problem of every file is reported in one
 * ValidationFailed.
 */
import { parse as parseYamlValue } from 'yaml';
import { loadInventory } from '../inventory/load.js';
import { matchHosts, PatternError } from '../inventory/patterns.js';
import { DiagnosticList, type Diagnostic, type SourceTexts } from '../source/diagnostics.js';
import { describeValue } from '../source/issues.js';
import type { Playbook } from './model.js';
import type { Inventory } from '../inventory/model.js';
import { loadPlaybook, metaOfPlay } from './playbook.js';
import { isVariableName } from '../source/names.js';
import { containsNul, keyPos, NUL_REASON, posOf, readYaml, valuePos } from '../source/yaml.js';
import { MIN_SECRET_LENGTH, shortSecretMessage } from '../redactor.js';
import { VaultContext } from '../source/vault.js';
import type { Node } from 'yaml';
import { dirname } from 'node:path';
import type { LoadedCfg } from './ansible-cfg.js';

export interface LoadOptions {
  playbookPath: string;
  inventoryPath: string;
  extraVars?: Record<string, unknown>;
  secretsFile?: string;
  /** Vault passwords; the same context -e @files were read with, so it holds their decrypted values too. */
  vault?: VaultContext;
  /** Where roles are looked for after `roles/` beside the playbook (--roles-path; ansible.cfg's roles_path when wired). */
  rolesPath?: string[];
  /** The ansible.cfg in effect: its remote_user / private_key_file are defaults for hosts that set none. */
  ansibleCfg?: LoadedCfg;
}

export interface Project {
  playbook: Playbook;
  inventory: Inventory;
  extraVars: Record<string, unknown>;
  /** Secret name → value from --secrets FILE; these win over a play's `secrets:` templates. */
  secretValuesFromFile: Record<string, string>;
  /** Every file read: playbook, inventory, vars_files (not the secrets file). */
  files: Array<{ path: string; sha256: string }>;
  /** Warnings found while loading (errors throw instead). */
  warnings: Diagnostic[];
  /** Source texts of the files read, for caret excerpts in later messages. */
  sources: SourceTexts;
  /** Every value decrypted from Ansible Vault data: each is a secret, and so is any variable holding one. */
  vaultValues: ReadonlySet<string>;
}

export async function loadProject(opts: LoadOptions): Promise<Project> {
  const diags = new DiagnosticList();
  diags.vault = opts.vault ?? new VaultContext();
  addCfg(diags, opts.ansibleCfg);
  // group_vars/ and host_vars/ beside the playbook apply too, as in ansible-playbook.
  const inventory = loadInventory(opts.inventoryPath, diags, { playbookDir: dirname(opts.playbookPath) });
  applyCfgDefaults(inventory, opts.ansibleCfg);
  // --roles-path, else ansible.cfg's roles_path.
  const rolesPath = opts.rolesPath?.length ? opts.rolesPath : opts.ansibleCfg?.cfg?.rolesPath;
  const playbook = loadPlaybook(opts.playbookPath, diags, { rolesPath });
  const filesBeforeSecrets = diags.files.length;
  const secrets = opts.secretsFile ? loadSecretsFile(opts.secretsFile, diags) : {};
  const files = diags.files.slice(0, filesBeforeSecrets);
  // The secrets file's text must never be quoted in an error excerpt.
  if (opts.secretsFile) diags.sources.delete(opts.secretsFile);
  if (inventory && playbook) {
    for (const play of playbook.plays) {
      try {
        matchHosts(inventory, play.hosts);
      } catch (err) {
        if (!(err instanceof PatternError)) throw err;
        diags.error(metaOfPlay(play)?.hostsPos ?? play.pos, err.message, `plays[${playbook.plays.indexOf(play)}].hosts`);
      }
    }
  }
  diags.throwIfErrors();
  return {
    playbook: playbook!,
    inventory: inventory!,
    extraVars: opts.extraVars ?? {},
    secretValuesFromFile: secrets,
    files,
    warnings: diags.sorted(),
    sources: diags.sources,
    vaultValues: diags.vault.values,
  };
}

/** Load only an inventory (for `plumb inventory`); `playbookDir` adds that directory's group_vars/ and host_vars/. */
export function loadInventoryOnly(
  path: string,
  secretsFile?: string,
  more: { playbookDir?: string; ansibleCfg?: LoadedCfg; vault?: VaultContext } = {},
): { inventory: Inventory; secrets: Record<string, string>; warnings: Diagnostic[]; sources: SourceTexts; vaultValues: ReadonlySet<string> } {
  const diags = new DiagnosticList();
  diags.vault = more.vault ?? new VaultContext();
  addCfg(diags, more.ansibleCfg);
  const inventory = loadInventory(path, diags, { playbookDir: more.playbookDir });
  applyCfgDefaults(inventory, more.ansibleCfg);
  const secrets = secretsFile ? loadSecretsFile(secretsFile, diags) : {};
  if (secretsFile) diags.sources.delete(secretsFile);
  diags.throwIfErrors();
  return { inventory: inventory!, secrets, warnings: diags.sorted(), sources: diags.sources, vaultValues: diags.vault.values };
}

function addCfg(diags: DiagnosticList, loaded: LoadedCfg | undefined): void {
  if (!loaded) return;
  for (const d of loaded.warnings) diags.add(d);
  for (const [f, t] of loaded.sources) diags.sources.set(f, t);
}

/** ansible.cfg's remote_user and private_key_file sit below every inventory variable, as in Ansible. */
function applyCfgDefaults(inventory: Inventory | undefined, loaded: LoadedCfg | undefined): void {
  const cfg = loaded?.cfg;
  if (!inventory || !cfg) return;
  for (const host of inventory.hosts.values()) {
    if (host.connection.connection === 'local') continue;
    if (cfg.remoteUser !== undefined && host.connection.user === undefined) host.connection.user = cfg.remoteUser;
    if (cfg.privateKeyFile !== undefined && host.connection.identity_file === undefined) host.connection.identity_file = cfg.privateKeyFile;
  }
}

/** --secrets FILE: a YAML mapping of secret name → string value. Errors never quote the values. */
function loadSecretsFile(file: string, diags: DiagnosticList): Record<string, string> {
  const src = readYaml(file, diags, 'secrets file');
  if (!src) return {};
  const root = src.doc.contents as Node;
  const value = src.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    diags.error(posOf(src, root), `expected a mapping of secret names to values, found ${describeValue(value)}`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!isVariableName(k)) {
      diags.error(keyPos(src, root, [k]), `invalid secret name "${k}": use letters, digits and _`);
    } else if (typeof v === 'string' && v.length < MIN_SECRET_LENGTH) {
      diags.error({ ...valuePos(src, root, [k]), length: 1 }, shortSecretMessage(`secret "${k}"`));
    } else if (typeof v === 'string') {
      out[k] = v;
      diags.redactor.add(v, `secret "${k}"`);
    } else if (typeof v === 'number' || typeof v === 'boolean') {
      // Never echo the value: it is a secret even when YAML typed it.
      diags.error({ ...valuePos(src, root, [k]), length: 1 }, `secret "${k}" must be a string: quote its value`);
    } else {
      diags.error({ ...valuePos(src, root, [k]), length: 1 }, `secret "${k}" must be a string, found ${Array.isArray(v) ? 'a list' : v === null ? 'an empty value' : 'a mapping'}`);
    }
  }
  return out;
}

/** `-e k=v` (v read as a YAML scalar: 2525 is a number, yes stays a string), `-e @vars.yaml`, `-e '{"k": 1}'`. */
export function parseExtraVars(list: string[], vault?: VaultContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const diags = new DiagnosticList();
  diags.vault = vault;
  const cli = (message: string) => diags.add({ severity: 'error', file: '<command line>', line: 1, column: 1, message });
  for (const item of list) {
    if (item.startsWith('@')) {
      const file = item.slice(1);
      const src = readYaml(file, diags, 'extra vars file');
      if (!src) continue;
      if (src.value === null || typeof src.value !== 'object' || Array.isArray(src.value)) {
        diags.error(posOf(src, src.doc.contents as Node), `expected a mapping of variables, found ${describeValue(src.value)}`);
        continue;
      }
      Object.assign(out, checkNames(src.value as Record<string, unknown>, cli));
    } else if (item.trimStart().startsWith('{')) {
      let value: unknown;
      try {
        value = parseYamlValue(item);
      } catch (err) {
        cli(`-e ${item}: not a valid mapping: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) cli(`-e ${item}: expected a mapping`);
      else Object.assign(out, checkNames(value as Record<string, unknown>, cli));
    } else {
      const eq = item.indexOf('=');
      if (eq <= 0) {
        cli(`-e ${JSON.stringify(item)}: expected NAME=VALUE, @FILE.yaml or a {mapping}`);
        continue;
      }
      const name = item.slice(0, eq);
      Object.assign(out, checkNames({ [name]: scalar(item.slice(eq + 1)) }, cli));
    }
  }
  if (containsNul(out)) cli(`-e: a value contains a NUL character: ${NUL_REASON}`);
  diags.throwIfErrors();
  return out;
}

function scalar(text: string): unknown {
  if (text === '') return '';
  // "0600" is a file mode, not the decimal 600 YAML 1.2 would make of it.
  if (/^[+-]?0[0-9]+$/.test(text)) return text;
  try {
    const v = parseYamlValue(text);
    return v === null || typeof v === 'object' ? text : v;
  } catch {
    return text;
  }
}

function checkNames(vars: Record<string, unknown>, cli: (m: string) => void): Record<string, unknown> {
  for (const k of Object.keys(vars)) if (!isVariableName(k)) cli(`-e: invalid variable name "${k}"`);
  return vars;
}
