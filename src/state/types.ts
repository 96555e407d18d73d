/**
 * The state store port: instances, attempts, produced files, deliveries and leases.
 * SQLite (default, one host) or PostgreSQL (several hosts share the work), through knex, with
 * numbered migrations. All times are epoch milliseconds (numbers) in this interface.
 */

export type JobKind = 'export' | 'import';

/**
 * Instance status:
 * - 'pending'   created, never finished an attempt
 * - 'succeeded' done: file produced and every delivery confirmed (or nothing to send by rule)
 * - 'failed'    last attempt failed; retried by the next run until `maxAttempts`
 * - 'excluded'  an operator excluded the date on purpose (not run, not alerted)
 */
export type InstanceStatus = 'pending' | 'succeeded' | 'failed' | 'excluded';

export interface InstanceRecord {
  job: string;
  /** `yyyy-MM-dd` */
  businessDate: string;
  kind: JobKind;
  status: InstanceStatus;
  /** Attempts that ended in failure since the last success (or since --force). */
  failures: number;
  /** Short outcome of the last attempt: 'sent', 'empty-skipped', 'failed', … */
  outcome: string | null;
  lastError: string | null;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type AttemptStatus = 'running' | 'succeeded' | 'failed';

export interface AttemptRecord {
  id: number;
  job: string;
  businessDate: string;
  /** Lease owner id of the run (host:pid:random). */
  runId: string;
  status: AttemptStatus;
  /** 'sent' | 'resumed' | 'empty-skipped' | 'dry-run' | … when succeeded. */
  outcome: string | null;
  error: string | null;
  forced: boolean;
  startedAt: number;
  finishedAt: number | null;
}

/** A file an export attempt produced (kept in the local archive) or an import received. */
export interface FileRecord {
  id: number;
  attemptId: number;
  job: string;
  businessDate: string;
  /** File name as agreed with the partner. */
  name: string;
  /** Path of the archived bytes, relative to the project folder. */
  archivePath: string;
  size: number;
  rows: number;
  sha256: string;
  /** `{seq}` used in the name, 0 when the rule has none. */
  seq: number;
  createdAt: number;
}

export type DeliveryStatus = 'delivered' | 'skipped-exists' | 'failed';

export interface DeliveryRecord {
  id: number;
  fileId: number;
  attemptId: number;
  /** Connection name. */
  connection: string;
  /** Path on the destination of the data file. */
  remotePath: string;
  status: DeliveryStatus;
  error: string | null;
  /** True for an operator's resend. */
  resend: boolean;
  at: number;
}

export interface NewFile {
  attemptId: number;
  job: string;
  businessDate: string;
  name: string;
  archivePath: string;
  size: number;
  rows: number;
  sha256: string;
  seq: number;
}

export interface NewDelivery {
  fileId: number;
  attemptId: number;
  connection: string;
  remotePath: string;
  status: DeliveryStatus;
  error?: string | null;
  resend?: boolean;
}

export interface LeaseRequest {
  job: string;
  businessDate: string;
  kind: JobKind;
  /** Unique id of this run. */
  owner: string;
  /** Lease lifetime from now. */
  ttlMs: number;
  /**
   * Also take the lease from this owner even if it has not expired: the caller proved that
   * owner dead (a process of this host that no longer exists).
   */
  takeOverFrom?: string;
}

export interface InstanceFilter {
  job?: string;
  /** Only business dates >= this `yyyy-MM-dd`. */
  since?: string;
  limit?: number;
}

/**
 * A received file in the inbox:
 * - 'received'  downloaded (sha256 known), not yet ingested
 * - 'ingested'  its rows are committed in the target database
 * - 'duplicate' its sha256 was already ingested for the job: not ingested again, archived
 * - 'rejected'  validation or checks failed: nothing written, moved to the error folder
 */
export type InboxStatus = 'received' | 'ingested' | 'duplicate' | 'rejected';

export interface InboxRecord {
  id: number;
  attemptId: number;
  job: string;
  businessDate: string;
  /** Connection it came from ('' for `ferry ingest --file`). */
  connection: string;
  /** Path on that connection (or the local path given by hand). */
  remotePath: string;
  name: string;
  size: number;
  /** Remote modification time, epoch ms, when known. */
  mtime: number | null;
  sha256: string;
  status: InboxStatus;
  rows: number | null;
  error: string | null;
  /** Arrived after the deadline. */
  late: boolean;
  /** Where the local copy is now (archive or error folder), relative to the project. */
  localPath: string | null;
  receivedAt: number;
  finishedAt: number | null;
}

export interface NewInboxFile {
  attemptId: number;
  job: string;
  businessDate: string;
  connection: string;
  remotePath: string;
  name: string;
  size: number;
  mtime: number | null;
  sha256: string;
  late: boolean;
  localPath: string;
}

export interface InboxUpdate {
  status: InboxStatus;
  rows?: number | null;
  error?: string | null;
  localPath?: string | null;
}

export interface StateStore {
  /** Apply pending numbered migrations (idempotent; safe when several processes start at once). */
  migrate(): Promise<void>;
  getInstance(job: string, businessDate: string): Promise<InstanceRecord | undefined>;
  /**
   * Create the instance if missing and take its lease, atomically. Returns the instance with
   * the lease held by `owner`, or `undefined` when another owner's lease has not expired yet.
   * An expired lease (crashed run) is taken over.
   */
  acquireLease(req: LeaseRequest): Promise<InstanceRecord | undefined>;
  /** Extend the lease; false when it is no longer ours (expired and taken over). */
  renewLease(job: string, businessDate: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Drop the lease if `owner` holds it. */
  releaseLease(job: string, businessDate: string, owner: string): Promise<void>;
  /** Set status/outcome/error; `failures` is incremented on 'failed', reset to 0 on 'succeeded'. */
  setInstanceStatus(
    job: string,
    businessDate: string,
    status: InstanceStatus,
    detail?: { outcome?: string | null; error?: string | null; resetFailures?: boolean },
  ): Promise<void>;
  startAttempt(job: string, businessDate: string, runId: string, forced: boolean): Promise<AttemptRecord>;
  finishAttempt(
    attemptId: number,
    status: Exclude<AttemptStatus, 'running'>,
    detail?: { outcome?: string | null; error?: string | null },
  ): Promise<void>;
  recordFile(file: NewFile): Promise<FileRecord>;
  /** The newest produced file of the instance (highest id), if any. */
  latestFile(job: string, businessDate: string): Promise<FileRecord | undefined>;
  recordDelivery(delivery: NewDelivery): Promise<DeliveryRecord>;
  deliveriesOf(fileId: number): Promise<DeliveryRecord[]>;
  /** Highest `seq` recorded for (job, date), 0 when none. */
  maxSeq(job: string, businessDate: string): Promise<number>;
  listInstances(filter?: InstanceFilter): Promise<InstanceRecord[]>;
  /** Record a received file (status 'received'). */
  recordInboxFile(file: NewInboxFile): Promise<InboxRecord>;
  updateInboxFile(id: number, update: InboxUpdate): Promise<void>;
  /** Inbox records of a job with this sha256 (any status), oldest first. */
  inboxBySha(job: string, sha256: string): Promise<InboxRecord[]>;
  /** Inbox records of a job for one remote file as listed (connection, path, size, mtime), oldest first. */
  inboxByRemote(job: string, connection: string, remotePath: string, size: number, mtime: number | null): Promise<InboxRecord[]>;
  /** Inbox records of an instance, oldest first. */
  inboxOf(job: string, businessDate: string): Promise<InboxRecord[]>;
  /**
   * Note that a remote file was seen with this size and mtime; returns since when it has been
   * seen unchanged (epoch ms). A change of size or mtime restarts the clock.
   */
  observe(job: string, connection: string, remotePath: string, size: number, mtime: number | null, now: number): Promise<number>;
  /** Newest first, each attempt with its files and their deliveries. */
  history(
    job: string,
    limit: number,
  ): Promise<Array<AttemptRecord & { files: Array<FileRecord & { deliveries: DeliveryRecord[] }>; received: InboxRecord[] }>>;
  close(): Promise<void>;
}
