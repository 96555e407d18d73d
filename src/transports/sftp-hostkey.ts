/**
 * SSH host key checks for the SFTP transport, kept free of I/O so they can be unit tested.
 *
 * ssh2 accepts every host key unless a `hostVerifier` is given (PITFALLS §2), and its
 * `hostHash` option yields hex digests that match nothing users have. Fingerprints here are
 * OpenSSH's: `SHA256:` + unpadded base64 of the SHA-256 of the key blob, exactly what
 * `ssh-keygen -lf` and `ssh -v` print, so partners' published fingerprints can be pasted in.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** OpenSSH-style fingerprint of a host key blob (SSH wire format): `SHA256:…`. */
export function fingerprintOf(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type named inside a key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  if (len > keyBlob.length - 4 || len > 64) return 'unknown';
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

/**
 * Read a configured fingerprint: `SHA256:abc`, with or without base64 padding, or a whole
 * `ssh-keygen -lf` line (`256 SHA256:abc comment (ED25519)`). undefined when it holds no
 * SHA256 fingerprint (MD5 `aa:bb:…` fingerprints are too weak to pin and are refused).
 */
export function parseFingerprint(text: string): string | undefined {
  const m = /(?:^|\s)SHA256:([A-Za-z0-9+/]{43})=?(?:\s|$)/.exec(text.trim());
  return m ? `SHA256:${m[1]}` : undefined;
}

/** How a host is named in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

export interface KnownHostsVerdict {
  /** trusted: a line for this host lists the key; revoked: a `@revoked` line lists it. */
  status: 'trusted' | 'revoked' | 'unknown';
  /** Fingerprints of the keys the file lists for this host (for the error message). */
  expected: string[];
}

/**
 * Check a presented host key against known_hosts text, as OpenSSH does: plain and
 * comma-separated host lists, `*`/`?` wildcards, `!negated` patterns, hashed `|1|salt|hash`
 * entries (HMAC-SHA1 of the host name), and `@revoked` lines, which reject the key even when
 * another line lists it. `@cert-authority` lines are skipped: host certificates are not
 * supported, so such a line can never make a key trusted.
 */
export function checkKnownHosts(text: string, host: string, port: number, keyBlob: Buffer): KnownHostsVerdict {
  const names = port === 22 ? [knownHostsName(host, 22)] : [knownHostsName(host, port)];
  let trusted = false;
  let revoked = false;
  const expected: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith('@')) marker = fields.shift();
    const [hosts, _type, b64] = fields;
    if (!hosts || !b64) continue;
    if (marker === '@cert-authority') continue;
    if (marker !== undefined && marker !== '@revoked') continue;
    if (!names.some((n) => hostFieldMatches(hosts, n))) continue;
    let blob: Buffer;
    try {
      blob = Buffer.from(b64, 'base64');
    } catch {
      continue;
    }
    const same = blob.length === keyBlob.length && blob.equals(keyBlob);
    if (marker === '@revoked') {
      if (same) revoked = true;
      continue;
    }
    expected.push(fingerprintOf(blob));
    if (same) trusted = true;
  }
  return { status: revoked ? 'revoked' : trusted ? 'trusted' : 'unknown', expected };
}

/** Does the host field of a known_hosts line (patterns or one hashed name) cover `name`? */
function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) return hashedMatches(field, name);
  let positive = false;
  for (const pattern of field.split(',')) {
    if (!pattern) continue;
    if (pattern.startsWith('!')) {
      // A matching negation excludes the host whatever else the line says (sshd(8)).
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) {
      positive = true;
    }
  }
  return positive;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, what `HashKnownHosts yes` writes. */
function hashedMatches(field: string, name: string): boolean {
  const parts = field.split('|');
  if (parts.length !== 4 || !parts[2] || !parts[3]) return false;
  const salt = Buffer.from(parts[2], 'base64');
  const want = Buffer.from(parts[3], 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

function globMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  if (!/[*?]/.test(p)) return p === name;
  const re = new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return re.test(name);
}
