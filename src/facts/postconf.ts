/**
 * The postconf fact: main.cf parameters exactly as `postconf -h` prints them
 * (unexpanded), or, when Postfix cannot parse main.cf at all, why.
 */
import { quote } from '../quote.js';
import { fact, type Fact, type FactRef, SBIN_PATH } from './types.js';

export interface PostconfValues {
  /** Current value per requested key, exactly as `postconf -h` prints it (unexpanded). */
  values: Record<string, string>;
  /** Set when Postfix cannot parse the current main.cf (then every postconf fails): what postconf said. */
  broken?: string;
}

const MARK = '::plumb-postconf';

/** postconf's diagnostics start with its own path: "postconf: warning: ...", "/usr/sbin/postconf: fatal: ...". */
const DIAGNOSTIC = /^\S*postconf: (warning|fatal|error): (.*)$/;

/**
 * Why Postfix cannot parse main.cf, without the quoted text postconf adds
 * (`truncated macro reference: "a$(b"`): that text is a value from the host,
 * possibly a secret.
 */
function parseFailure(diagnostics: string[]): string {
  const why = diagnostics.find((d) => !/unused parameter|undefined parameter|macro processing error/.test(d)) ?? diagnostics.find((d) => d) ?? 'postconf failed';
  return why.replace(/:?\s*"[^"]*"\s*$/, '');
}

/**
 * Prints `::plumb-postconf missing` when postconf is not installed, else
 * `::plumb-postconf values`, the output of one `postconf -h KEY...` with stderr
 * merged, and `::plumb-postconf-rc RC`. postconf prints one line per known key,
 * in argument order; for an unknown key it prints only a warning (and still
 * exits 0), so the warnings are read to keep values on the right keys.
 */
export const postconfValues: Fact<{ keys: string[] }, PostconfValues> = {
  name: 'postconf',
  summary: 'main.cf parameters as postconf -h prints them, or why Postfix cannot parse main.cf',
  probe: ({ keys }) =>
    [
      SBIN_PATH,
      `if ! command -v postconf >/dev/null 2>&1; then echo '${MARK} missing'; else`,
      `echo '${MARK} values'; postconf -h -- ${keys.map(quote).join(' ')} </dev/null 2>&1; echo "${MARK}-rc $?"`,
      'fi',
    ].join('\n'),
  parse({ keys }, { stdout }) {
    const lines = stdout.split('\n');
    if (lines[0] === `${MARK} missing`) return { known: false, reason: 'postconf is not installed' };
    const start = lines.indexOf(`${MARK} values`);
    const end = lines.findIndex((l) => l.startsWith(`${MARK}-rc `));
    if (start < 0 || end < start) return { known: false, reason: `unexpected probe output for postconf: ${JSON.stringify(stdout.slice(0, 80))}` };
    const rc = Number(lines[end].slice(`${MARK}-rc `.length));
    const values: string[] = [];
    const diagnostics: string[] = [];
    let fatal = false;
    for (const line of lines.slice(start + 1, end)) {
      const diag = DIAGNOSTIC.exec(line);
      if (diag) {
        diagnostics.push(diag[2]);
        if (diag[1] === 'fatal') fatal = true;
      } else values.push(line);
    }
    // Measured on Postfix 3.7: one unparseable value anywhere in main.cf makes every postconf exit 1
    // with "fatal: macro processing error". That is a fact about the host, not an unknown state.
    if (rc !== 0 && fatal && diagnostics.some((d) => /macro|syntax error/.test(d))) {
      return { known: true, state: { values: {}, broken: parseFailure(diagnostics) } };
    }
    const unknownKeys = keys.filter((k) => diagnostics.includes(`${k}: unknown parameter`));
    if (unknownKeys.length > 0) {
      return { known: false, reason: `postconf does not know parameter ${unknownKeys.join(', ')} (misspelt, or not in this Postfix version)` };
    }
    if (rc !== 0 || values.length !== keys.length) {
      const why = diagnostics.find((d) => !d.includes('unused parameter')) ?? `exit ${rc}, ${values.length} values for ${keys.length} keys`;
      return { known: false, reason: `postconf -h failed: ${why}` };
    }
    return { known: true, state: { values: Object.fromEntries(keys.map((k, i) => [k, values[i]])) } };
  },
};

export const postconfValuesOf = (keys: string[]): FactRef<PostconfValues> => fact(postconfValues, { keys });
