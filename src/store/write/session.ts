/**
 * Transaction control for a writing run (ingest, merge): inputs are committed in groups, each
 * input inside its own savepoint, so that a rejected input is undone alone and an interrupted run
 * keeps only whole inputs.
 */
import type { Store } from '../db.js';

/** One writing run on a store. */
export class WriteSession {
  private readonly foreignKeys: boolean;

  /**
   * Foreign-key checks are off for the session: the writers only ever reference rows they have
   * just looked up or inserted, so per-row checks (three lookups per call) buy nothing; tests run
   * `foreign_key_check` after writing. {@link close} restores the setting.
   */
  constructor(private readonly db: Store) {
    this.foreignKeys = (db.pragma('foreign_keys', { simple: true }) as number) === 1;
    db.pragma('foreign_keys = OFF');
  }

  /** True while a group's transaction is open. */
  get open(): boolean {
    return this.db.inTransaction;
  }

  /** Opens a group's transaction, taking the write lock now (not at the first write). */
  begin(): void {
    this.db.exec('BEGIN IMMEDIATE');
  }

  /** Commits the group. */
  commit(): void {
    if (this.db.inTransaction) this.db.exec('COMMIT');
  }

  /** Keeps the whole inputs of the group when possible, else drops the group (a failing commit). */
  salvage(): void {
    if (!this.db.inTransaction) return;
    try {
      this.db.exec('COMMIT');
    } catch {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    }
  }

  /** Starts one input inside the group. */
  beginInput(): void {
    this.db.exec('SAVEPOINT input');
  }

  /** Keeps the input. */
  keepInput(): void {
    this.db.exec('RELEASE input');
  }

  /** Undoes the input alone, unless SQLite already rolled the whole transaction back (some I/O errors do). */
  undoInput(): void {
    if (!this.db.inTransaction) return;
    this.db.exec('ROLLBACK TO input');
    this.db.exec('RELEASE input');
  }

  /** Workloads in the store now. */
  workloads(): number {
    return this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM workloads').get()?.n ?? 0;
  }

  /** Ends the session: foreign-key checks as they were. */
  close(): void {
    this.db.pragma(`foreign_keys = ${this.foreignKeys ? 'ON' : 'OFF'}`);
  }
}
