import { PlumbError } from '../errors.js';
import type { SourcePos } from '../source/pos.js';

/** A template that cannot be parsed or evaluated; `detail` is the message without the position. */
export class TemplateError extends PlumbError {
  /** Where in the template text the problem is (an offset), until a file position replaces it. */
  offset?: number;

  constructor(
    readonly detail: string,
    readonly pos?: SourcePos,
  ) {
    super(pos ? `${pos.file}:${pos.line}:${pos.column}: ${detail}` : detail);
  }

  /** The same error, positioned (the innermost position wins). */
  at(pos: SourcePos | undefined): TemplateError {
    if (this.pos || !pos) return this;
    return new TemplateError(this.detail, pos);
  }

  /** Remember the offset in the template text, unless an inner one is known. */
  atOffset(offset: number): this {
    this.offset ??= offset;
    return this;
  }

  /** Positioned inside `text`, the content of template file `file` (its own line and column). */
  inFile(file: string, text: string): TemplateError {
    if (this.pos || this.offset === undefined) return this.pos ? this : this.at({ file, line: 1, column: 1 });
    return new TemplateError(this.detail, { file, ...lineColumn(text, this.offset) });
  }
}

/** 1-based line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}
