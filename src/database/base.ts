/**
 * What the three knex-based adapters share: their knex instance, the cleanups of queries still
 * open, and the ingest side (marker table and transaction, see ingest.ts), which only differs by
 * the bulk path each adapter hands to its Ingester.
 */
import type { Knex } from 'knex';
import type { Ingester } from './ingest.js';
import type { IngestedFile, IngestMarker, IngestOptions, IngestTransaction } from './types.js';

export abstract class KnexDatabase {
  /** Cleanups of queries still open, run by close() so the pool can shut down. */
  protected readonly open = new Set<() => Promise<void>>();
  protected abstract readonly ingester: Ingester;

  constructor(
    protected readonly name: string,
    protected readonly knex: Knex,
  ) {}

  ingestedFile(job: string, sha256: string): Promise<IngestedFile | undefined> {
    return this.ingester.ingestedFile(job, sha256);
  }

  ingest(marker: IngestMarker, fn: (tx: IngestTransaction) => Promise<number>, options: IngestOptions): Promise<number> {
    return this.ingester.ingest(marker, fn, options);
  }

  async close(): Promise<void> {
    for (const abort of [...this.open]) await abort().catch(() => undefined);
    await this.knex.destroy();
  }
}
