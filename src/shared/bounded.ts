/**
 * A string-keyed table bounded by the text it holds as well as by its entries: the tables that
 * remember what an input has shown (targets, workloads) grow with distinct resources, and one
 * S3 key can be a thousand characters long, so a count alone does not bound their memory.
 */

/**
 * Bytes counted per entry besides its key's characters: V8's Map entry, the key string's header
 * and the value (measured: a 50,000-entry table of ~110-character keys holds 162 bytes per entry).
 */
const ENTRY_BYTES = 64;

/** Limits of a {@link BoundedTable}. */
export interface TableLimits {
  /** Entries at most. */
  entries: number;
  /** Characters of keys (plus {@link ENTRY_BYTES} per entry) at most. */
  bytes: number;
}

/**
 * A Map whose owner starts it over once {@link full}: callers that number entries (wire.ts) must
 * say so to whoever holds the numbers, so the table never clears itself.
 */
export class BoundedTable<V> {
  private readonly map = new Map<string, V>();
  private bytes = 0;
  /** Where the flattening reads land (kept, so that no compiler drops them as unused). */
  private sink = 0;

  constructor(readonly limits: TableLimits) {}

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  /**
   * Adds an entry. Its key is flattened first: a string built by concatenation is a tree of its
   * pieces in V8 (`a + b` allocates a node pointing at both), and a Map keeps that tree as it
   * is, four times the key's length (measured: 595 bytes per entry instead of 162). Reading a
   * character flattens it into one string.
   */
  set(key: string, value: V): void {
    this.sink ^= key.charCodeAt(0);
    if (!this.map.has(key)) this.bytes += key.length + ENTRY_BYTES;
    this.map.set(key, value);
  }

  /** True once past either limit: the owner should {@link clear} it at its next safe point. */
  get full(): boolean {
    return this.map.size >= this.limits.entries || this.bytes >= this.limits.bytes;
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}
