/** Events the engine emits while it runs; reporters turn them into lines, a tree, or nothing. */
import type { HostPlan, HostResult, TaskResult } from '../engine/types.js';

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
