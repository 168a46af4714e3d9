/**
 * Secret values are tracked by value: any text that is printed, saved or put
 * in an error goes through `redact`, which replaces every occurrence of every
 * secret with ***. Longer secrets are replaced first so a secret that contains
 * another is hidden whole.
 */
export const REDACTED = '***';

export class Redactor {
  private readonly values = new Set<string>();
  private sortedCache: string[] | null = null;

  add(value: string): void {
    // An empty secret would match everywhere; a one-character one would shred all output.
    if (typeof value !== 'string' || value.length < 2) return;
    this.values.add(value);
    this.sortedCache = null;
  }

  /** Track every value another redactor tracks (e.g. one per host into one for the whole run). */
  merge(other: Redactor): void {
    for (const v of other.values) this.add(v);
  }

  get size(): number {
    return this.values.size;
  }

  has(text: string): boolean {
    for (const v of this.values) if (text.includes(v)) return true;
    return false;
  }

  redact(text: string): string {
    if (this.values.size === 0 || !text) return text;
    let out = text;
    for (const v of this.sorted()) if (out.includes(v)) out = out.split(v).join(REDACTED);
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

  private sorted(): string[] {
    if (!this.sortedCache) this.sortedCache = [...this.values].sort((a, b) => b.length - a.length);
    return this.sortedCache;
  }
}
