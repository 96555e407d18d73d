/**
 * Secret values (`env()`/`file()` references) are resolved only when a connection is opened,
 * and every resolved value is remembered here so that logs and printed errors can scrub it:
 * driver errors and connection strings must never leak a password (pino's `redact` only
 * covers object paths, not message text — PITFALLS §10).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './errors.js';
import type { EnvRef, FileRef, Secret } from './types.js';

const known = new Set<string>();

export function isEnvRef(v: unknown): v is EnvRef {
  return typeof v === 'object' && v !== null && (v as EnvRef).$secret === 'env';
}
export function isFileRef(v: unknown): v is FileRef {
  return typeof v === 'object' && v !== null && (v as FileRef).$secret === 'file';
}
export function isSecretRef(v: unknown): v is EnvRef | FileRef {
  return isEnvRef(v) || isFileRef(v);
}

/** Remember a value that must never be printed. Short values are skipped to keep logs readable. */
export function registerSecret(value: string): void {
  if (value.length >= 4) known.add(value);
  // The password inside a URL is a secret too, also in its percent-decoded form.
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@/]+)@/i.exec(value);
  if (m?.[1]) {
    known.add(m[1]);
    try {
      known.add(decodeURIComponent(m[1]));
    } catch {
      /* not percent-encoded */
    }
  }
}

/** Replace every known secret in `text` with `[REDACTED]`, and mask passwords in URLs. */
export function redact(text: string): string {
  let out = text;
  for (const s of known) if (out.includes(s)) out = out.split(s).join('[REDACTED]');
  return out.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@/\s]+)@/gi, '$1[REDACTED]@');
}

/**
 * Resolve a config value that may be an `env()` or `file()` reference. `where` names the field
 * for error messages (`connections.shop.connection`). Relative file paths are resolved against
 * the project folder.
 */
export function resolveSecret(value: Secret, where: string, baseDir: string): string {
  if (isEnvRef(value)) {
    const v = process.env[value.name];
    if (v === undefined || v === '') {
      throw new ConfigError([`${where}: environment variable ${value.name} is not set`]);
    }
    registerSecret(v);
    return v;
  }
  if (isFileRef(value)) {
    const p = isEnvRef(value.path) ? resolveSecret(value.path, where, baseDir) : value.path;
    let v: string;
    try {
      v = readFileSync(resolve(baseDir, p), 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError([`${where}: file '${p}' cannot be read (${code})`], { cause: e });
    }
    registerSecret(v.trim());
    return v;
  }
  return value;
}

/** Resolve every secret reference inside a plain options object (one level deep, as drivers take). */
export function resolveSecretsIn(
  value: Record<string, unknown>,
  where: string,
  baseDir: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (isSecretRef(v)) {
      out[k] = resolveSecret(v, `${where}.${k}`, baseDir);
    } else {
      out[k] = v;
      if (/pass|secret|token|key/i.test(k) && typeof v === 'string') registerSecret(v);
    }
  }
  return out;
}
