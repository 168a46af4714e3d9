import { PlumbError } from '../errors.js';
import type { SourcePos } from '../source/pos.js';

/** A template that cannot be parsed or evaluated; `detail` is the message without the position. */
export class TemplateError extends PlumbError {
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
}
