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

/**
 * The parse worker reached its heap limit while reading an input. Memory is bounded by design
 * (docs/memory.md), so this is an input unlike any export seen: it is refused alone, named,
 * with what to do; the worker is replaced and the other inputs are still read.
 */
export class InputMemoryError extends DumpFormatError {
  constructor(
    readonly limitMb: number,
    offset?: number,
  ) {
    super(
      `ran out of memory reading this input (the parse worker's heap is limited to ${limitMb} MiB)${offset === undefined ? '' : `; the last value started at byte ${offset}`}`,
      {
        position: offset === undefined ? undefined : { offset },
        hint: 'split the input into smaller files (for JSON lines: `split -l 100000`) and ingest them together; each file is read on its own',
      },
    );
  }
}
