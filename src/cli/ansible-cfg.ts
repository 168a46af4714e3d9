/** ansible.cfg for the commands: read once, its `inventory` standing in for a missing -i. */
import { loadAnsibleCfg, type LoadedCfg } from '../config/ansible-cfg.js';
import type { Io } from './command.js';
import { UsageError } from './errors.js';
import type { CommonOptions } from './options.js';

/** The ansible.cfg in effect; fills `o.inventory` from it when -i was not given (or says why it cannot). */
export function ansibleCfgFor(o: CommonOptions, io: Io, command: string): LoadedCfg {
  const loaded = loadAnsibleCfg({ env: io.env, cwd: process.cwd() });
  const list = loaded.cfg?.inventory;
  if (!o.inventory && list?.length) {
    if (list.length > 1) throw new UsageError(`${loaded.cfg!.file} lists ${list.length} inventories (${list.join(', ')}); plumb reads one: pass -i`, command);
    o.inventory = list[0];
  }
  if (!o.inventory) throw new UsageError('missing -i INVENTORY (and no [defaults] inventory in an ansible.cfg)', command);
  return loaded;
}
