/**
 * Text a host returns (file content, owner names, link targets, versions,
 * stderr) is untrusted, and a terminal obeys control characters: ESC starts
 * sequences that clear the screen, set the window title or draw an OSC 8
 * hyperlink; CR and backspace overwrite what was printed; C1 controls are
 * CSI/OSC on some terminals; bidi overrides (U+202E) reorder what a reader
 * sees. Every output applies this one function to host-derived text, after
 * redaction, so such characters are shown, never obeyed. plumb's own colours
 * come from listr2 around the text and are not affected.
 *
 * C0 controls become \xHH (\r for CR, \n for a newline in one-line fields);
 * DEL, C1, bidi controls and line separators become \uHHHH, so escaping JSON
 * text keeps it valid JSON with the same meaning (JSON.stringify has already
 * escaped C0). Backslashes are left alone: an escape and the same text
 * written literally look alike, which is harmless, and paths and regexps stay
 * readable. Escaping is idempotent.
 */

// Tab is kept: it only moves the cursor forward and cannot hide text.
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_KEEP_NEWLINE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visible(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  const code = c.charCodeAt(0);
  return code < 0x20 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export interface EscapeOptions {
  /** A field printed inside one line (a summary, a reason, an error): newlines are escaped too, so it cannot forge a line. */
  oneLine?: boolean;
}

export function escapeControl(text: string, options: EscapeOptions = {}): string {
  return text.replace(options.oneLine ? UNSAFE : UNSAFE_KEEP_NEWLINE, visible);
}
