/**
 * The Transport seam: where files are delivered to and fetched from. One adapter per
 * technology (local folder now; SFTP and FTP/FTPS next), chosen in `src/transports/index.ts`.
 * Paths are POSIX-style and relative to the connection's root; adapters refuse paths that
 * would leave it. Atomic delivery (temp name → size check → rename) is built on these
 * primitives in `src/core/deliver.ts`, the same way for every transport.
 */

export interface RemoteEntry {
  name: string;
  /** Path relative to the connection root. */
  path: string;
  size: number;
  /** Modification time, epoch ms (undefined when the server does not say). */
  mtime?: number;
  isFile: boolean;
}

export interface TransportCapabilities {
  /**
   * Uploads may go to a temporary name and be renamed (false when the connection says
   * `atomic: false`: the server forbids rename, files are written under their final name).
   */
  rename: boolean;
  /** `rename` can replace an existing file atomically. */
  atomicOverwrite: boolean;
  /** `rename(…, { overwrite: false })` fails atomically when the target exists. */
  exclusiveRename: boolean;
  /** `sha256()` is available without downloading. */
  hashing: boolean;
}

export interface Transport {
  /** Connection name from the config. */
  readonly connection: string;
  readonly capabilities: TransportCapabilities;
  list(dir: string): Promise<RemoteEntry[]>;
  /** undefined when nothing is at `path`. */
  stat(path: string): Promise<RemoteEntry | undefined>;
  /**
   * Upload a local file to exactly `remotePath` (callers use a temporary name). Creates or
   * truncates the remote file. Transient network failures throw a TransferError with
   * `transient: true`; authentication and host-key failures are permanent.
   */
  put(localPath: string, remotePath: string, opts?: TransferOptions): Promise<void>;
  /** Download `remotePath` to a local file, computing size and sha256 on the way. */
  get(remotePath: string, localPath: string, opts?: TransferOptions): Promise<{ size: number; sha256: string }>;
  /**
   * Rename `from` to `to`. With `overwrite: false` it must not replace an existing `to`
   * (throws TargetExistsError where the transport can tell).
   */
  rename(from: string, to: string, opts: { overwrite: boolean }): Promise<void>;
  remove(path: string): Promise<void>;
  /** Create a folder and its parents; no error when it exists. */
  mkdir(dir: string): Promise<void>;
  /** sha256 (hex) of a file, when `capabilities.hashing`. */
  sha256?(path: string): Promise<string>;
  /**
   * For `ferry check`: connect, authenticate and describe the server as label/value pairs
   * (host key fingerprint, TLS certificate subject and expiry, capabilities…). Throws on failure.
   */
  describe(): Promise<Array<[string, string]>>;
  close(): Promise<void>;
}

export interface TransferOptions {
  /** Called as bytes move (total so far); used for progress bars. */
  onProgress?: (bytes: number) => void;
  /**
   * `get` only: the most bytes the download may bring. Every adapter stops reading as soon as
   * more would arrive and throws a (permanent) TransferError; the caller removes its temp file.
   * A partner's server that claims no size, or a wrong one, cannot fill the disk.
   */
  maxBytes?: number;
}
