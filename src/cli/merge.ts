/** `plumb merge FILE…`: the shard plans (or shard recaps) of one CI matrix as one plan (or one recap) and one exit code. */
import { writeFileSync } from 'node:fs';
import { mergePlans } from '../engine/shard-plans.js';
import { shardLabel } from '../engine/shard.js';
import { EXIT } from '../errors.js';
import { READ_LIMITS, readLimited } from '../local-file.js';
import { planJson } from '../report/plan-document.js';
import { planDocumentText, planExitCode } from '../report/plan-document-text.js';
import { planMarkdown } from '../report/plan-markdown.js';
import { looksLikeRecap, mergeRecaps, recapDocumentTable, recapJson } from '../report/recap-document.js';
import type { Command } from './command.js';
import { UsageError } from './errors.js';
import { describeOptions, parseCommand, pickOptions } from './options.js';

const options = pickOptions('format', 'out');

function readJson(path: string): unknown {
  const text = readLimited(path, { limit: READ_LIMITS.savedPlan, what: 'plan or recap file' }).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not JSON: ${(e as Error).message}`, 'merge');
  }
}

export const mergeCommand: Command = {
  name: 'merge',
  help: `Usage: plumb merge PLAN.json… [--format text|markdown|json] [--out merged.json]
       plumb merge RECAP.json… [--format text|json] [--out merged.json]

Joins the N plans saved by "plumb plan --shard I/N --out" (one per CI job)
into the plan one process would have made: the same hosts in the same order,
identical hosts grouped as in "plan --format markdown". --out saves it;
"plumb apply merged.json" or "plumb apply --shard I/N merged.json" applies it
exactly, refusing hosts whose state moved since, as for any saved plan.

Refused, writing nothing: plans of different playbooks, inventories, files or
commands, of different N, a shard missing or given twice, a host in two plans
or in none (an interrupted shard).

Given the recaps of "plumb apply --shard I/N --format json" instead, prints one
recap; its exit code is the one a single apply of every host would give.

Exit code: as "plumb plan" for plans (0 no changes, 2 changes pending, 4 some
host unreachable, 1 an error), as "plumb apply" for recaps (0, 1, 4, 130);
1 when the files cannot be merged.

Options:
${describeOptions(['format', 'out', 'verbose', 'help'])}

Examples:
  plumb merge plan-*.json --format markdown --out merged.json > plan.md
  plumb merge recap-*.json`,

  async run(argv, io) {
    const { options: o, positionals } = parseCommand('merge', argv, options);
    if (o.help) {
      io.stdout(this.help);
      return EXIT.ok;
    }
    if (!positionals.length) throw new UsageError('missing PLAN.json (the saved plans of plan --shard I/N)', 'merge');
    const files = positionals.map((path) => ({ path, doc: readJson(path) }));
    const recaps = files.filter((f) => looksLikeRecap(f.doc));
    if (recaps.length && recaps.length !== files.length) throw new UsageError('give plans or recaps, not both', 'merge');
    const format = o.format ?? 'text';
    if (recaps.length) {
      if (format === 'markdown') throw new UsageError('recaps merge to text or json, not markdown', 'merge');
      const recap = mergeRecaps(files);
      const json = recapJson(recap);
      if (o.out) writeFileSync(o.out, json);
      io.stdout(format === 'json' ? json : recapDocumentTable(recap));
      return recap.exit_code;
    }
    const plan = mergePlans(files);
    const json = planJson(plan);
    if (o.out) writeFileSync(o.out, json, { mode: 0o600 });
    io.stdout(format === 'json' ? json : format === 'markdown' ? planMarkdown(plan) : planDocumentText(plan));
    const count = files.length;
    if (o.out)
      io.stderr(
        `merged ${count} shard plan${count === 1 ? '' : 's'} (${plan.summary.hosts} hosts) into ${o.out}; apply it with: plumb apply ${o.out}, or per job: plumb apply --shard ${shardLabel({ index: 1, count })} ${o.out} …`,
      );
    return planExitCode(plan);
  },
};
