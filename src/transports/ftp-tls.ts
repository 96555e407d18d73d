/**
 * TLS helpers for the FTP transport: upgrading the control connection while keeping hold of the
 * server's certificate, and turning certificate failures into messages an operator can act on.
 *
 * Why our own upgrade instead of basic-ftp's `useTLS()`: Node destroys a TLS socket whose
 * certificate fails verification before the 'error' event fires, so the certificate is gone by
 * the time anyone could look at it. A 'secure' listener placed in front of Node's own check runs
 * while the handshake data is still there. Verification itself is untouched: it stays on
 * (`rejectUnauthorized` is never set), we only read what the server presented.
 */
import { connect as tlsConnect, type ConnectionOptions, type DetailedPeerCertificate, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';

/** Error codes Node/OpenSSL use when the certificate chain or name does not check out. */
const CERT_ERRORS = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** True when `e` says the server's certificate was refused (a permanent, configuration problem). */
export function isCertificateError(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && CERT_ERRORS.has(code);
}

/** Keeps the certificate a TLS socket was shown, also when verification then fails. */
export function watchPeerCertificate(sock: TLSSocket): () => PeerCertificate | undefined {
  let cert: PeerCertificate | undefined;
  // prependListener: Node's own 'secure' listener verifies and destroys the socket on failure;
  // ours must run first, while the handle still holds the certificate.
  sock.prependListener('secure', () => {
    try {
      const c = sock.getPeerCertificate(true) as DetailedPeerCertificate;
      if (c && Object.keys(c).length > 0) cert = c;
    } catch {
      /* no certificate to keep */
    }
  });
  return () => cert;
}

/**
 * Upgrade a connected control socket to TLS (after `AUTH TLS` was accepted). Resolves with the
 * verified socket; rejects with Node's verification error. `seen()` returns the certificate
 * the server presented either way.
 */
export function upgradeToTls(socket: Socket, options: ConnectionOptions): { done: Promise<TLSSocket>; seen: () => PeerCertificate | undefined } {
  const sock = tlsConnect({ ...options, socket });
  const seen = watchPeerCertificate(sock);
  const done = new Promise<TLSSocket>((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    sock.once('error', onError);
    sock.once('secureConnect', () => {
      // From here on basic-ftp's FTPContext listens for errors on this socket.
      sock.removeListener('error', onError);
      resolve(sock);
    });
  });
  return { done, seen };
}

/** `CN=example.org, O=Partner` from a certificate subject or issuer. */
export function describeName(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return 'unknown';
  const parts = Object.entries(name).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`);
  return parts.length ? parts.join(', ') : 'unknown';
}

/** `2027-01-31` from a certificate's `valid_to` ("Jan 31 12:00:00 2027 GMT"). */
export function validUntil(cert: PeerCertificate): string {
  const d = new Date(cert.valid_to);
  return Number.isNaN(d.getTime()) ? cert.valid_to : d.toISOString().slice(0, 10);
}

/** One line about a certificate: subject, issuer, expiry. */
export function describeCertificate(cert: PeerCertificate): string {
  return `certificate ${describeName(cert.subject)} issued by ${describeName(cert.issuer)}, valid until ${validUntil(cert)}`;
}

/**
 * The message for a refused certificate: what was presented, why it was refused, and which
 * setting fixes it. Never suggests turning verification off.
 */
export function certificateProblem(e: unknown, cert: PeerCertificate | undefined, host: string): string {
  const code = String((e as { code?: unknown }).code ?? '');
  const reason = e instanceof Error ? e.message.replace(/ \(control socket\)$/, '') : String(e);
  const what = cert ? `the server's TLS ${describeCertificate(cert)}` : "the server's TLS certificate";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
    return `${what} does not carry the name '${host}' (${reason}); set \`servername\` to a name the certificate carries, or connect by that name`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `${what} is not valid now (${reason}); the partner must renew it`;
  }
  return `${what} is not trusted (${reason}); if the partner uses a private CA or a self-signed certificate, set \`ca\` to that CA's PEM certificate (e.g. ca: file('certs/partner-ca.pem'))`;
}
