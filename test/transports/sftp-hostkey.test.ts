/** Unit tests for host key fingerprints and known_hosts matching (no server needed). */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { checkKnownHosts, fingerprintOf, keyTypeOf, knownHostsName, parseFingerprint } from '../../src/transports/sftp-hostkey.js';

// An ed25519 public key blob as it appears in known_hosts / *.pub files.
const KEY_B64 = 'AAAAC3NzaC1lZDI1NTE5AAAAIGedSJJlfKCWKqC0EChEUmtHn5oDoH/jrPGmVm1xQKfQ';
const OTHER_B64 = 'AAAAC3NzaC1lZDI1NTE5AAAAIHz1mJm0Zc2xk2XQ0m8r3QqWc6wSCp9uP4m1pU9nK0aB';
const key = Buffer.from(KEY_B64, 'base64');

test('fingerprint is SHA256 + unpadded base64, as ssh-keygen -lf prints', () => {
  const expected = 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
  assert.equal(fingerprintOf(key), expected);
  assert.equal(fingerprintOf(key).length, 7 + 43);
  assert.equal(keyTypeOf(key), 'ssh-ed25519');
  assert.equal(keyTypeOf(Buffer.alloc(2)), 'unknown');
});

test('configured fingerprints: with or without padding, or a whole ssh-keygen -lf line', () => {
  const fp = fingerprintOf(key);
  assert.equal(parseFingerprint(fp), fp);
  assert.equal(parseFingerprint(`${fp}=`), fp);
  assert.equal(parseFingerprint(`256 ${fp} root@host (ED25519)`), fp);
  assert.equal(parseFingerprint('MD5:aa:bb:cc'), undefined);
  assert.equal(parseFingerprint('SHA256:short'), undefined);
});

test('known_hosts names: plain on port 22, [host]:port otherwise, lower case', () => {
  assert.equal(knownHostsName('SFTP.Example.com', 22), 'sftp.example.com');
  assert.equal(knownHostsName('10.0.0.5', 2222), '[10.0.0.5]:2222');
});

test('plain, listed, wildcard and negated host patterns', () => {
  const ok = (text: string, host: string, port: number) => checkKnownHosts(text, host, port, key).status;
  assert.equal(ok(`sftp.example.com ssh-ed25519 ${KEY_B64}`, 'sftp.example.com', 22), 'trusted');
  assert.equal(ok(`other,sftp.example.com,10.0.0.5 ssh-ed25519 ${KEY_B64} comment`, '10.0.0.5', 22), 'trusted');
  assert.equal(ok(`[10.0.0.5]:2222 ssh-ed25519 ${KEY_B64}`, '10.0.0.5', 2222), 'trusted');
  assert.equal(ok(`10.0.0.5 ssh-ed25519 ${KEY_B64}`, '10.0.0.5', 2222), 'unknown', 'port 22 entry does not cover 2222');
  assert.equal(ok(`*.example.com ssh-ed25519 ${KEY_B64}`, 'sftp.example.com', 22), 'trusted');
  assert.equal(ok(`*.example.com,!sftp.example.com ssh-ed25519 ${KEY_B64}`, 'sftp.example.com', 22), 'unknown');
  assert.equal(ok(`# sftp.example.com ssh-ed25519 ${KEY_B64}\n\n`, 'sftp.example.com', 22), 'unknown');
});

test('a different key for the host is reported with its fingerprint', () => {
  const v = checkKnownHosts(`sftp.example.com ssh-ed25519 ${OTHER_B64}`, 'sftp.example.com', 22, key);
  assert.equal(v.status, 'unknown');
  assert.deepEqual(v.expected, [fingerprintOf(Buffer.from(OTHER_B64, 'base64'))]);
});

test('hashed entries (HashKnownHosts) match by HMAC-SHA1 of the name', () => {
  const salt = Buffer.from('0123456789abcdef0123');
  const hashed = (name: string) => `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  assert.equal(checkKnownHosts(`${hashed('[10.0.0.5]:2222')} ssh-ed25519 ${KEY_B64}`, '10.0.0.5', 2222, key).status, 'trusted');
  assert.equal(checkKnownHosts(`${hashed('10.0.0.6')} ssh-ed25519 ${KEY_B64}`, '10.0.0.5', 22, key).status, 'unknown');
});

test('@revoked wins over a trusting line; @cert-authority lines are ignored', () => {
  const text = `sftp.example.com ssh-ed25519 ${KEY_B64}\n@revoked * ssh-ed25519 ${KEY_B64}\n`;
  assert.equal(checkKnownHosts(text, 'sftp.example.com', 22, key).status, 'revoked');
  assert.equal(checkKnownHosts(`@cert-authority *.example.com ssh-ed25519 ${KEY_B64}`, 'sftp.example.com', 22, key).status, 'unknown');
});
