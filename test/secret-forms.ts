/** What tests search every output for: a secret and the common encodings a leak could take. */

/** The secret and its common encodings; forms shorter than 4 characters are not searchable. */
export function forms(s: string): string[] {
  const bytes = Buffer.from(s, 'utf8');
  const out = [
    s,
    s.trim(),
    s.toUpperCase(),
    s.toLowerCase(),
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    JSON.stringify(s).slice(1, -1),
    s.replace(/'/g, `'\\''`),
  ];
  try {
    out.push(encodeURIComponent(s));
  } catch {
    // a lone surrogate has no URL encoding
  }
  return [...new Set(out)].filter((f) => f.length >= 4);
}

/** Every form of every secret found in `text`, JSON-quoted for the failure message. */
export function leaks(text: string, secrets: string[]): string[] {
  const found: string[] = [];
  for (const s of secrets) for (const f of forms(s)) if (text.includes(f)) found.push(JSON.stringify(f));
  return found;
}
