/** Values the engine produces: a plan per host, and results of applying it. */
import type { Play, Task } from '../config/model.js';
import type { Change, Probed, RunStep } from '../modules/types.js';

/**
 * - ok: the host already matches.
 * - change: the probe is known and the diff is not empty.
 * - may-change: the probe could not tell (e.g. postconf before postfix is installed).
 * - skipped: `when` is false or the task is not selected by --tags.
 * - error: the task cannot be carried out as written on this host (the module says why).
 */
type Outcome = 'ok' | 'change' | 'may-change' | 'skipped' | 'error';

export interface TaskPlan {
  /** Index of the task in play.tasks. */
  index: number;
  task: Task;
  /** Arguments after rendering and schema parsing (never printed: may hold secrets). */
  args: unknown;
  /** Values of the secret variables the arguments were computed from (keys fingerprints; never printed). */
  secretValues?: string[];
  outcome: Outcome;
  changes: Change[];
  /** Why a task may change or was skipped. */
  reason?: string;
  /**
   * The task's view of the facts it read (each value by its module's name for it, and which
   * fields derive from secrets), for fingerprints of saved plans; unknown with the reason when
   * the module could not plan; undefined when skipped.
   */
  probed?: Probed<unknown>;
  /** The steps that make exactly `changes` (outcome change only; never printed or saved). */
  steps?: RunStep[];
  /** A loop's item (issue 13): the task's name already carries the label, `task (label)`. */
  item?: LoopItemRef;
  /** Fingerprint input of the loop's whole item list, for saved plans (never printed). */
  loopItems?: unknown[];
  /** A rescue task runs only if its block fails: "a task of block "x" fails". */
  runsIf?: string;
  /** Issue 15: what `register:` adds for a read-only module (stat's `stat`), from the facts read (never printed or saved). */
  registered?: Record<string, unknown>;
  /** Issue 15: what the task prints (debug's msg, assert's success_msg), redacted; the report layer escapes it. */
  message?: string;
}

export interface LoopItemRef {
  /** Position in the loop's list. */
  index: number;
  label: string;
}

export interface HandlerPlan {
  name: string;
  /** "will" when a notifying task changes or a notification is pending from an earlier run, "may" when it may change. */
  runs: 'will' | 'may';
  because: string[];
  /** The flush point it runs at ("after pre_tasks", "at \"flush\""); absent when the play has only one. */
  at?: string;
}

export interface HostPlan {
  host: string;
  play: Play;
  status: 'planned' | 'failed' | 'unreachable';
  tasks: TaskPlan[];
  handlers: HandlerPlan[];
  /** Handlers still owed from an earlier run that stopped before running them. */
  pendingHandlers: string[];
  error?: string;
  seconds: number;
}

type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface TaskResult {
  name: string;
  status: TaskStatus;
  changes: Change[];
  /** Set when a failed task had ignore_errors (or ignore_unreachable, and the host was unreachable). */
  ignored?: boolean;
  /** A failure a block's rescue took over: not the host's failure any more. */
  rescued?: boolean;
  error?: string;
  handler?: boolean;
  /** Issue 15: the plan's `registered` of the ok task that ran (never printed). */
  registered?: Record<string, unknown>;
  /** Issue 15: what the task printed (debug, assert), redacted; the report layer escapes it. */
  message?: string;
}

export interface HostResult {
  host: string;
  /** interrupted: Ctrl-C stopped the host after some of its tasks ran (they are counted). */
  status: 'ok' | 'changed' | 'failed' | 'unreachable' | 'refused' | 'interrupted' | 'not-run';
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  tasks: TaskResult[];
  error?: string;
  seconds: number;
}

/** Events the engine emits while it runs; reporters (src/report) turn them into lines, a tree, or nothing. */
export interface Reporter {
  playStart(name: string, hosts: string[]): void;
  /** What the host is doing now: "probing", "connecting", a task name. */
  hostActivity(host: string, activity: string): void;
  taskDone(host: string, result: TaskResult): void;
  hostPlanned(plan: HostPlan): void;
  hostDone(result: HostResult): void;
  /** A line of warning or notice (redacted by the caller). */
  notice(message: string): void;
  /** Stop drawing; called once before the final output is printed. */
  close(): Promise<void>;
}
