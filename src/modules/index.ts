/**
 * The module list. Adding a module is its file plus one entry here:
 * validation, the JSON Schema, default task names, help and docs/modules.md
 * all read the module's own declaration.
 */
import { apt } from './apt.js';
import { authorized_key } from './authorized_key.js';
import { blockinfile } from './blockinfile.js';
import { command } from './command.js';
import { copy } from './copy.js';
import { cron } from './cron.js';
import { debconf } from './debconf.js';
import { dpkg_selections } from './dpkg_selections.js';
import { assert } from './assert.js';
import { debug } from './debug.js';
import { fail } from './fail.js';
import { file } from './file.js';
import { group } from './group.js';
import { ini_file } from './ini_file.js';
import { hostname } from './hostname.js';
import { apt_repository } from './apt_repository.js';
import { deb822_repository } from './deb822_repository.js';
import { get_url } from './get_url.js';
import { lineinfile } from './lineinfile.js';
import { package_ } from './package.js';
import { package_facts } from './package_facts.js';
import { pause } from './pause.js';
import { postconf } from './postconf.js';
import { replace } from './replace.js';
import { service } from './service.js';
import { service_facts } from './service_facts.js';
import { setup } from './setup.js';
import { shell } from './shell.js';
import { stat } from './stat.js';
import { sysctl } from './sysctl.js';
import { systemd, systemd_service } from './systemd_service.js';
import { template } from './template.js';
import { timezone } from './timezone.js';
import { unarchive } from './unarchive.js';
import type { Module } from './types.js';
import { user } from './user.js';
import { ufw } from './ufw.js';
import { wait_for } from './wait_for.js';

export const modules = {
  apt,
  postconf,
  copy,
  template,
  file,
  lineinfile,
  blockinfile,
  replace,
  ini_file,
  stat,
  command,
  shell,
  service,
  systemd_service,
  systemd,
  sysctl,
  hostname,
  timezone,
  setup,
  service_facts,
  package_facts,
  // Issue 15: accounts.
  user,
  group,
  authorized_key,
  cron,
  ufw,
  package: package_,
  debconf,
  dpkg_selections,
  debug,
  assert,
  fail,
  pause,
  wait_for,
  // Issue 15: apt repositories, downloads and archives.
  apt_repository,
  deb822_repository,
  get_url,
  unarchive,
} satisfies Record<string, Module>;

export type ModuleName = keyof typeof modules;
export const moduleNames = Object.keys(modules) as ModuleName[];

/** Each module's argument schema, for validation without the rest of the module. */
export const argSchemas = Object.fromEntries(moduleNames.map((n) => [n, modules[n].schema])) as { [K in ModuleName]: (typeof modules)[K]['schema'] };

for (const [key, module] of Object.entries(modules)) {
  if (module.name !== key) throw new Error(`module list: ${key} holds module ${module.name}`);
}

export type * from './types.js';
/** Issue 13: the stand-in host facts validate renders with (a play's facts are only known on the host). */
export { standInFacts } from '../facts/host-facts.js';
