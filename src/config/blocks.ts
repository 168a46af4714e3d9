/**
 * `block:` / `rescue:` / `always:` at load time, and the task keywords that go with them (`meta:`,
 * `delegate_to:`). A block is flattened into the play's task list: each of its tasks carries the
 * chain of blocks it is in (Task.blocks) and inherits the block's keywords as Ansible does —
 * `when` conditions are joined with "and", tags and notify add up, become, become_user,
 * ignore_errors, run_once, delegate_to, any_errors_fatal and ignore_unreachable are given to a task
 * that does not set its own, and `vars` are layered over the enclosing ones. The applier rebuilds
 * the structure from the chains (src/engine/blocks.ts).
 */
import { z } from 'zod';
import { describeValue } from '../source/issues.js';
import { didYouMean } from '../source/suggest.js';
import { posOf, locate, type PathPart } from '../source/yaml.js';
import { isTemplate } from '../template/expr.js';
import type { Block, MetaAction } from './model.js';
import type { Checker } from './playbook.js';

const SECTIONS = ['block', 'rescue', 'always'] as const;
type Section = (typeof SECTIONS)[number];

/** Keywords a block may carry besides its sections (what its tasks inherit, and its name). */
const BLOCK_KEYS = [
  'name',
  'when',
  'tags',
  'notify',
  'become',
  'become_user',
  'ignore_errors',
  'vars',
  'run_once',
  'delegate_to',
  'any_errors_fatal',
  'ignore_unreachable',
] as const;

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1))]);
const blockSchemas: Record<string, z.ZodType> = {
  name: z.string().min(1),
  when: z.union([z.string().min(1), z.boolean(), z.array(z.string().min(1))]),
  tags: stringOrList,
  notify: stringOrList,
  become: z.boolean(),
  become_user: z.string().min(1),
  ignore_errors: z.boolean(),
  vars: z.record(z.string(), z.unknown()).nullable(),
  run_once: z.boolean(),
  delegate_to: z.string().min(1),
  any_errors_fatal: z.boolean(),
  ignore_unreachable: z.boolean(),
};

/** What a block gives the tasks inside it. */
export interface BlockKeywords {
  when: string[];
  tags: string[];
  notify: string[];
  become?: boolean;
  become_user?: string;
  ignore_errors?: boolean;
  vars?: Record<string, unknown>;
  run_once?: boolean;
  delegate_to?: 'localhost';
  any_errors_fatal?: boolean;
  ignore_unreachable?: boolean;
}

export interface ReadBlock {
  block: Block;
  keywords: BlockKeywords;
  sections: Array<{ section: Section; list: unknown[]; path: PathPart[] }>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [String(v)]);

/** A task-list entry that is (or tries to be) a block. */
export function isBlockEntry(entry: unknown): entry is Record<string, unknown> {
  return isRecord(entry) && SECTIONS.some((s) => s in entry);
}

let nextBlockId = 0;

/** A block entry's keys, sections and keywords, each problem positioned; undefined when any is wrong. */
export function readBlock(checker: Checker, entry: Record<string, unknown>, path: PathPart[]): ReadBlock | undefined {
  let ok = true;
  if (!('block' in entry)) {
    const orphan = SECTIONS.find((s) => s in entry)!;
    checker.error([...path, orphan], `"${orphan}" belongs to a block: write "block:" with the tasks it ${orphan === 'rescue' ? 'rescues' : 'follows'}`, 'key');
    return undefined;
  }
  for (const key of Object.keys(entry)) {
    if ((SECTIONS as readonly string[]).includes(key) || (BLOCK_KEYS as readonly string[]).includes(key)) continue;
    ok = false;
    const hint = didYouMean(key, [...SECTIONS, ...BLOCK_KEYS]);
    checker.error([...path, key], `unknown key "${key}" in a block${hint || `: a block holds tasks under block:, rescue: and always:, and takes ${BLOCK_KEYS.join(', ')}`}`, 'key');
  }
  for (const [key, schema] of Object.entries(blockSchemas)) {
    if (entry[key] !== undefined && !checker.check(schema, entry[key], [...path, key])) ok = false;
  }
  ok = checker.conditions(entry.when, [...path, 'when']) && ok;
  if (isRecord(entry.vars)) ok = checker.variables(entry.vars, [...path, 'vars'], new Map(), checker.src, checker.root) && ok;
  const delegate = entry.delegate_to === undefined ? undefined : readDelegate(checker, entry.delegate_to, [...path, 'delegate_to']);
  if (entry.delegate_to !== undefined && !delegate) ok = false;
  const sections: ReadBlock['sections'] = [];
  for (const section of SECTIONS) {
    const value = entry[section];
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value)) {
      ok = false;
      checker.error([...path, section], `${section}: must be a list of tasks, found ${describeValue(value)}`);
      continue;
    }
    sections.push({ section, list: value, path: [...path, section] });
  }
  if (!ok) return undefined;
  const when = entry.when;
  const block: Block = {
    id: nextBlockId++,
    ...(typeof entry.name === 'string' ? { name: entry.name } : {}),
    pos: posOf(checker.src, locate(checker.root, path).node),
    hasRescue: Array.isArray(entry.rescue) && entry.rescue.length > 0,
  };
  return {
    block,
    sections,
    keywords: {
      when: when === undefined ? [] : typeof when === 'boolean' ? [String(when)] : Array.isArray(when) ? (when as string[]) : [when as string],
      tags: list(entry.tags),
      notify: list(entry.notify),
      become: entry.become as boolean | undefined,
      become_user: entry.become_user as string | undefined,
      ignore_errors: entry.ignore_errors as boolean | undefined,
      vars: isRecord(entry.vars) ? entry.vars : undefined,
      run_once: entry.run_once as boolean | undefined,
      delegate_to: delegate,
      any_errors_fatal: entry.any_errors_fatal as boolean | undefined,
      ignore_unreachable: entry.ignore_unreachable as boolean | undefined,
    },
  };
}

/** How a block is named in plans and errors. */
export function blockLabel(block: Pick<Block, 'name' | 'pos'>): string {
  return block.name ? `block "${block.name}"` : `the block at line ${block.pos.line}`;
}

const META_ACTIONS: readonly MetaAction[] = ['flush_handlers', 'end_host', 'end_play', 'noop'];
const META_REFUSED: Record<string, string> = {
  clear_host_errors: 'a failed host stops at its failure in plumb, so nothing is left to clear',
  clear_facts: 'plumb keeps no fact cache',
  refresh_inventory: 'plumb reads the inventory once, before it contacts a host',
  reset_connection: 'plumb keeps one connection per host for the whole run',
  end_batch: 'not supported yet',
  end_role: 'not supported yet',
};

/** `meta: <action>`: the actions plumb runs, or a positioned error naming why the others are not. */
export function readMeta(checker: Checker, value: unknown, path: PathPart[]): MetaAction | undefined {
  if (typeof value !== 'string' || value === '') {
    checker.error(path, `meta: needs an action (${META_ACTIONS.join(', ')}), found ${describeValue(value)}`);
    return undefined;
  }
  const action = value.trim();
  if ((META_ACTIONS as readonly string[]).includes(action)) return action as MetaAction;
  const refused = META_REFUSED[action];
  if (refused) checker.error(path, `meta: ${action} is not supported: ${refused}`);
  else checker.error(path, `unknown meta action "${action}"${didYouMean(action, META_ACTIONS) || `; plumb runs ${META_ACTIONS.join(', ')}`}`);
  return undefined;
}

/** `delegate_to:` names the control machine, written literally; anything else is refused here. */
export function readDelegate(checker: Checker, value: unknown, path: PathPart[]): 'localhost' | undefined {
  if (value === 'localhost' || value === '127.0.0.1') return 'localhost';
  const why = typeof value !== 'string' ? `delegate_to: ${describeValue(value)}` : isTemplate(value) ? 'a templated delegate_to' : `delegate_to: ${JSON.stringify(value)}`;
  checker.error(path, `${why} is not supported yet: plumb delegates only to the control machine (delegate_to: localhost or 127.0.0.1)`);
  return undefined;
}
