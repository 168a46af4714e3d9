/** Where something was written: errors and warnings point here. */
export interface SourcePos {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
}
