/**
 * The error every ingest stage throws for a value that cannot be ingested: the input is refused
 * whole, with the position of the value and what to do.
 */
import { DumpFormatError } from '../shared/errors.js';

/** A value that cannot be ingested, with what to do about it. */
export class ShapeError extends DumpFormatError {
  constructor(message: string, offset: number, hint?: string) {
    super(message, { position: { offset }, hint });
  }

  /** Byte offset of the value at fault in the (decompressed) input. */
  get offset(): number {
    return this.position?.offset ?? 0;
  }
}
