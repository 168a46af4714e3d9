/**
 * Secret values are hidden by value: any text that is printed, saved or put
 * in an error goes through `redact`, which replaces every occurrence of every
 * secret with ***. Secrecy itself follows the data (values computed from a
 * secret are added here too, see engine/secrecy.ts); this class is the last
 * line: it also knows each secret's common encodings, so a secret transformed
 * outside the template language (quoted into a command line, echoed in base64
 * by a remote tool) is still hidden.
 */
import { PlumbError } from './errors.js';
import { quote } from './quote.js';

export const REDACTED = '***';

/**
 * Shorter values cannot be hidden by their bytes: they would match all over
 * ordinary output, and a leak of one is a leak of most of the secret anyway.
 */
export const MIN_SECRET_LENGTH = 4;

class SecretTooShortError extends PlumbError {
  constructor(readonly what: string) {
    super(shortSecretMessage(what));
  }
}

/** The message for a secret too short to hide; names it, never shows it. */
export function shortSecretMessage(what: string): string {
  return `${what} is shorter than ${MIN_SECRET_LENGTH} characters: plumb hides secrets by their bytes and cannot hide so short a value in output; use a longer one`;
}

export class Redactor {
  /** Every pattern hidden: each value added and its encodings. */
  private readonly patterns = new Set<string>();
  private added = 0;
  private sortedCache: string[] | null = null;
  private readonly sinks: Redactor[] = [];

  /**
   * Hide `value` and its encodings from now on. Throws SecretTooShortError
   * (naming `what`, never the value) for a value shorter than 4 characters.
   */
  add(value: string, what = 'a secret'): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) throw new SecretTooShortError(what);
    this.added++;
    this.absorb(encodings(value));
  }

  /**
   * Also hide each line of a multi-line secret on its own (lines of 4 characters
   * or more): a tool that prints the last lines of its error joins them differently.
   */
  addLines(value: string): void {
    this.absorb(value.split(/\r?\n/).filter((l) => l.length >= MIN_SECRET_LENGTH && l !== value));
  }

  /** Track every value another redactor tracks (e.g. one per host into one for the whole run). */
  merge(other: Redactor): void {
    this.added += other.added;
    this.absorb(other.patterns);
  }

  /** Everything this redactor hides, now and later, `other` hides too (a host's into the run's). */
  forwardTo(other: Redactor): void {
    if (other === this || this.sinks.includes(other)) return;
    this.sinks.push(other);
    other.merge(this);
  }

  /** How many values were added (not counting their encodings). */
  get size(): number {
    return this.added;
  }

  has(text: string): boolean {
    for (const v of this.patterns) if (text.includes(v)) return true;
    return false;
  }

  redact(text: string): string {
    if (this.patterns.size === 0 || !text) return text;
    let out = text;
    // Until nothing matches: replacing one value can join text into another
    // (a secret containing *** next to a redaction). Each pass only shortens the text.
    for (let changed = true; changed;) {
      changed = false;
      for (const v of this.sorted()) {
        if (out.includes(v)) {
          out = out.split(v).join(REDACTED);
          changed = true;
        }
      }
    }
    return out;
  }

  /** Redact every string inside a JSON-like value (for JSON output). */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        Object.defineProperty(out, this.redact(k), { value: this.redactDeep(v), enumerable: true, writable: true, configurable: true });
      }
      return out as T;
    }
    return value;
  }

  private absorb(patterns: Iterable<string>): void {
    const fresh: string[] = [];
    for (const p of patterns) {
      if (p.length < MIN_SECRET_LENGTH || this.patterns.has(p)) continue;
      this.patterns.add(p);
      fresh.push(p);
    }
    if (!fresh.length) return;
    this.sortedCache = null;
    for (const sink of this.sinks) sink.absorb(fresh);
  }

  private sorted(): string[] {
    // Longest first, so a secret that contains another is hidden whole.
    if (!this.sortedCache) this.sortedCache = [...this.patterns].sort((a, b) => b.length - a.length);
    return this.sortedCache;
  }
}

/**
 * The forms a secret commonly takes on its way to an output: itself, trimmed,
 * upper and lower case, shell-quoted (the body between the quotes, as
 * src/quote.ts `quote` and double quotes write it), JSON-string-escaped (also
 * with \u escapes for non-ASCII, as Python writes it), base64 and base64url
 * (whole, and the characters that belong to the secret alone when it sits at
 * any offset inside a longer base64 text), hex (lower and upper) and
 * URL-encoded. Forms shorter than 4 characters are left out.
 */
function encodings(value: string): string[] {
  const out = new Set<string>([value, value.trim(), value.toUpperCase(), value.toLowerCase()]);
  const tryAdd = (f: () => string) => {
    try {
      out.add(f());
    } catch {
      // e.g. a NUL has no shell quoting, a lone surrogate no URL encoding
    }
  };
  tryAdd(() => quote(value));
  out.add(value.replace(/'/g, `'\\''`));
  out.add(value.replace(/["\\$`]/g, '\\$&'));
  const json = JSON.stringify(value).slice(1, -1);
  out.add(json);
  out.add(json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  const bytes = Buffer.from(value, 'utf8');
  for (const alphabet of ['base64', 'base64url'] as const) {
    out.add(bytes.toString(alphabet));
    for (const offset of [0, 1, 2]) out.add(base64Core(bytes, offset, alphabet));
  }
  const hex = bytes.toString('hex');
  out.add(hex);
  out.add(hex.toUpperCase());
  tryAdd(() => encodeURIComponent(value));
  tryAdd(() => encodeURIComponent(value).replace(/%20/g, '+'));
  tryAdd(() => encodeURI(value));
  return [...out].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/**
 * The base64 characters made only of `bytes`' bits when `offset` other bytes
 * come before them: what any base64 text containing the secret contains.
 */
function base64Core(bytes: Buffer, offset: number, alphabet: 'base64' | 'base64url'): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString(alphabet);
  const first = Math.ceil((offset * 8) / 6);
  const last = Math.floor(((offset + bytes.length) * 8) / 6);
  return encoded.slice(first, last);
}
