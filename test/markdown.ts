/** Reading markdown the way a reviewer's renderer does, for tests of markdown plans. */

/** Lines of `md` outside fenced code blocks (a fence closes on a line of at least as many backticks). */
export function outsideFences(md: string): string[] {
  const out: string[] = [];
  let open = 0;
  for (const line of md.split('\n')) {
    const run = /^\s*(`{3,})/.exec(line)?.[1].length ?? 0;
    if (open === 0 && run) open = run;
    else if (open && run >= open && line.trim() === '`'.repeat(run)) open = 0;
    else if (!open) out.push(line);
  }
  return out;
}
