/**
 * Transfer part of `npm run bench`: one random file (1 GiB by default) uploaded and downloaded
 * over loopback with ferry's own transports and with the usual native clients:
 *
 * - SFTP against the test sshd (test/helpers/sshd.ts): ferry's SFTP transport vs OpenSSH
 *   `sftp -b batchfile`, both on aes128-gcm@openssh.com (ferry's default choice, checked with
 *   describe(); `sftp` is told with -o Ciphers=…);
 * - FTP and explicit FTPS against the test vsftpd (test/helpers/vsftpd.ts): ferry's FTP transport
 *   vs `curl -T` / `curl -o`.
 *
 * ferry runs as a child process (bench/transfer-client.ts), so GNU time measures both sides the
 * same way: elapsed seconds and peak RSS, process start included. After every transfer the bench
 * hashes the file where it landed (the server's folder for uploads, the local file for downloads)
 * and compares it with the source's sha256: a broken or short transfer cannot look fast.
 *
 * Targets (reported, not asserted): SFTP upload ≤ 1.25× OpenSSH, SFTP download ≤ 1.5×, FTP and
 * FTPS ≤ 1.6× curl, peak RSS of every ferry transfer < 150 MiB.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, createWriteStream, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { startSshd, type SshdServer } from '../test/helpers/sshd.js';
import { startVsftpd, type FtpServer } from '../test/helpers/vsftpd.js';
import type { FtpConnection, SftpConnection } from '../src/types.js';
import type { Timed } from './measure.js';
import { profileNode, ratioText, runInterleaved, sha256File, verdict, type CaseDef, type CaseSummary, type PartContext, type Sample } from './parts.js';
import { fixed, markdownTable, mib, textTable, type Cell } from './report.js';

const RSS_TARGET_MIB = 150;
const TIMEOUT_SECONDS = 300;
const CIPHER = 'aes128-gcm@openssh.com';

type Proto = 'SFTP' | 'FTP' | 'FTPS';
type Direction = 'upload' | 'download';

interface TransferCase extends CaseDef {
  proto: Proto;
  direction: Direction;
  /** 'diagnostic': a native variant that is nobody's baseline, shown to explain a gap. */
  tool: 'native' | 'ferry' | 'diagnostic';
  /** For ferry and diagnostic cases: the native case of the same protocol and direction. */
  baseline?: string;
  /** For ferry cases: the time target as a ratio to the baseline. */
  maxRatio?: number;
  /** For ferry cases: the client's arguments, to profile the same transfer once more. */
  ferryArgs?: string[];
}

/** Write `bytes` random bytes to `path` (random, so nothing on the way can compress it). */
async function randomFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  const chunk = 8 << 20;
  for (let left = bytes; left > 0; left -= chunk) {
    if (!out.write(randomBytes(Math.min(chunk, left)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Put the source into a server's folder without a second GiB on disk when the file system allows. */
function placeFile(source: string, target: string): void {
  try {
    linkSync(source, target);
  } catch {
    copyFileSync(source, target);
  }
}

/**
 * Processes of test servers another run started (`npm test`). The test helpers share one system
 * user per protocol and give it a new random password when a server starts (vsftpd also locks it
 * when its last server stops), so a bench and a test run at the same moment break each other's
 * logins. Called before our own servers start, so every hit is someone else's.
 */
function otherTestServers(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (/\/ferry-(sshd|vsftpd)-[^/\0]+\//.test(readFileSync(`/proc/${name}/cmdline`, 'latin1'))) pids.push(Number(name));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

/** Wait (up to FERRY_BENCH_WAIT_SECONDS, default 300) until no other run's test server is up. */
async function waitForOtherTestServers(out: (l?: string) => void): Promise<void> {
  const limit = Number(process.env.FERRY_BENCH_WAIT_SECONDS ?? 300);
  const deadline = Date.now() + limit * 1000;
  let told = false;
  for (;;) {
    const pids = otherTestServers();
    if (pids.length === 0) return;
    if (Date.now() >= deadline) {
      out(`WARNING: test servers of another run are still up (pids ${pids.join(', ')}); going on: logins may fail on either side`);
      return;
    }
    if (!told) out(`waiting up to ${limit} s for another run's test servers to stop (pids ${pids.join(', ')}): they share the test users' passwords`);
    told = true;
    await new Promise((r) => setTimeout(r, 5000));
  }
}

function failure(what: string, t: Timed): Error {
  const tail = `${t.stderr}`.trim().split('\n').slice(-10).join('\n');
  return new Error(`${what} exited with ${t.code}${tail ? `:\n${tail}` : ''}`);
}

export async function runTransfers(ctx: PartContext): Promise<string[]> {
  const problems: string[] = [];
  const { out, timer } = ctx;
  const mibSize = Number(process.env.FERRY_BENCH_TRANSFER_MIB ?? 1024);
  if (!Number.isInteger(mibSize) || mibSize < 1) throw new Error(`FERRY_BENCH_TRANSFER_MIB must be a positive integer`);
  const size = mibSize * 2 ** 20;
  const work = join(ctx.dir, 'transfer');
  mkdirSync(work, { recursive: true });
  const clientScript = join(ctx.repoRoot, 'dist', 'bench', 'transfer-client.js');

  out();
  out(`== Transfers: ${mibSize} MiB random file over loopback, ${ctx.repeat} repetitions, median time, max RSS ==`);
  const source = join(work, 'source.bin');
  const t0 = Date.now();
  await randomFile(source, size);
  const want = (await sha256File(source)).sha256;
  out(`source file written and hashed in ${((Date.now() - t0) / 1000).toFixed(1)} s (sha256 ${want.slice(0, 16)}…)`);

  // Servers: started together, stopped in `finally` and by run.ts's exit/Ctrl-C cleanup.
  let sshd: SshdServer | undefined;
  let ftp: FtpServer | undefined;
  let ftps: FtpServer | undefined;
  const stopServers = async () => {
    const all = [sshd, ftp, ftps];
    sshd = ftp = ftps = undefined;
    await Promise.all(all.map((s) => s?.stop().catch((e: Error) => out(`could not stop a test server: ${e.message}`))));
  };
  ctx.cleanups.push(stopServers);

  try {
    await waitForOtherTestServers(out);
    [sshd, ftp, ftps] = await Promise.all([startSshd(), startVsftpd({ tls: false }), startVsftpd({ tls: true })]);
    const servers = { sshd, ftp, ftps };

    // --- connection files for ferry (mode 0600: they hold credentials) ------------------------
    const sftpConn: SftpConnection = {
      type: 'sftp',
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.user,
      privateKey: sshd.privateKeyPem,
      hostKey: sshd.hostKeyFingerprint,
    };
    const ftpConn = (s: FtpServer): FtpConnection => ({
      type: 'ftp',
      host: '127.0.0.1',
      port: s.port,
      user: s.user,
      password: s.password,
      secure: s.tls ? 'explicit' : false,
      ...(s.tls ? { ca: s.caPem } : {}),
    });
    const connFiles: Record<Proto, string> = { SFTP: join(work, 'sftp.json'), FTP: join(work, 'ftp.json'), FTPS: join(work, 'ftps.json') };
    writeFileSync(connFiles.SFTP, JSON.stringify(sftpConn), { mode: 0o600 });
    writeFileSync(connFiles.FTP, JSON.stringify(ftpConn(ftp)), { mode: 0o600 });
    writeFileSync(connFiles.FTPS, JSON.stringify(ftpConn(ftps)), { mode: 0o600 });

    // --- native clients' files ---------------------------------------------------------------
    const knownHosts = join(work, 'known_hosts');
    writeFileSync(knownHosts, sshd.knownHostsLine + '\n');
    const putBatch = join(work, 'sftp-put.batch');
    const getBatch = join(work, 'sftp-get.batch');
    const got = join(work, 'got.bin');
    writeFileSync(putBatch, `put "${source}" up.bin\n`);
    writeFileSync(getBatch, `get down.bin "${got}"\n`);
    // curl reads the login from a config file (-K), so the password is not in its arguments.
    const curlCfg = (s: FtpServer, name: string) => {
      const f = join(work, name);
      writeFileSync(f, `user = "${s.user}:${s.password}"\n`, { mode: 0o600 });
      return f;
    };
    const curlFtp = curlCfg(ftp, 'curl-ftp.cfg');
    const curlFtps = curlCfg(ftps, 'curl-ftps.cfg');
    const caFile = join(work, 'ca.pem');
    writeFileSync(caFile, ftps.caPem);

    // The file to download, in every server's folder.
    for (const root of [sshd.root, ftp.root, ftps.root]) placeFile(source, join(root, 'down.bin'));

    // --- what ferry negotiates (untimed) ------------------------------------------------------
    const describe: Partial<Record<Proto, Record<string, string>>> = {};
    for (const proto of ['SFTP', 'FTP', 'FTPS'] as const) {
      const r = spawnSync(process.execPath, [clientScript, connFiles[proto], 'describe'], { encoding: 'utf8', timeout: 60_000 });
      if (r.status !== 0) throw new Error(`ferry ${proto} describe failed: ${r.stderr}`);
      describe[proto] = JSON.parse(r.stdout) as Record<string, string>;
    }
    const cipher = describe.SFTP?.['cipher'] ?? '?';
    out(`SFTP: ${describe.SFTP?.['server']}; ferry negotiated ${cipher}; ${describe.SFTP?.['transfer']}`);
    if (!cipher.startsWith(CIPHER) && !cipher.startsWith('aes128-gcm')) {
      problems.push(`ferry's SFTP transport negotiated ${cipher}, not ${CIPHER}: the SFTP comparison is not like for like`);
    }
    out(`FTPS: ${describe.FTPS?.['tls']}; ${describe.FTPS?.['tls session reuse']}`);
    const sftpVersion = spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim();
    const curlVersion = (spawnSync('curl', ['--version'], { encoding: 'utf8' }).stdout ?? '').split('\n')[0] ?? '?';
    out(`native: ${sftpVersion}; ${curlVersion}`);

    // --- cases --------------------------------------------------------------------------------
    const rootOf = (proto: Proto) => (proto === 'SFTP' ? servers.sshd.root : proto === 'FTP' ? servers.ftp.root : servers.ftps.root);

    /** Run one timed transfer, then check the bytes where they landed. */
    const transfer = async (proto: Proto, direction: Direction, cmd: string, args: string[], ferry: boolean): Promise<Sample> => {
      const landed = direction === 'upload' ? join(rootOf(proto), 'up.bin') : got;
      rmSync(landed, { force: true });
      try {
        const t = await timer.run(cmd, args, { cwd: work, timeoutSeconds: TIMEOUT_SECONDS });
        if (t.code !== 0) throw failure(`${ferry ? 'ferry' : cmd} ${proto} ${direction}`, t);
        const notes: string[] = [];
        const h = await sha256File(landed);
        if (h.bytes !== size || h.sha256 !== want) {
          throw new Error(`${proto} ${direction} by ${ferry ? 'ferry' : cmd}: the ${direction === 'upload' ? "server's" : 'downloaded'} file has ${h.bytes} bytes, sha256 ${h.sha256}; expected ${size} bytes, ${want}`);
        }
        if (ferry && direction === 'download') {
          // ferry's own hash of the download must agree too: it is what ferry records.
          const r = JSON.parse(t.stdout) as { sha256?: string; size?: number };
          if (r.sha256 !== want || r.size !== size) notes.push(`ferry reported size ${r.size}, sha256 ${r.sha256}`);
        }
        return { seconds: t.seconds, rssKiB: t.peakRssKiB, notes };
      } finally {
        rmSync(landed, { force: true });
      }
    };

    const sftpArgs = (batch: string, fsync = false) => [
      // -f: fsync each downloaded file, as ferry does; only for the diagnostic case.
      ...(fsync ? ['-f'] : []),
      '-b', batch,
      // No user or system ssh_config: only the options below apply.
      '-F', '/dev/null',
      '-i', servers.sshd.privateKeyPath,
      '-P', String(servers.sshd.port),
      '-o', `Ciphers=${CIPHER}`,
      '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes',
      '-o', 'IdentitiesOnly=yes',
      `${servers.sshd.user}@127.0.0.1`,
    ];
    const curlArgs = (proto: 'FTP' | 'FTPS', direction: Direction): string[] => {
      const s = proto === 'FTP' ? servers.ftp : servers.ftps;
      // -q first: no ~/.curlrc; only the config file given with -K.
      const base = ['-q', '-sS', '-K', proto === 'FTP' ? curlFtp : curlFtps, ...(proto === 'FTPS' ? ['--ssl-reqd', '--cacert', caFile] : [])];
      return direction === 'upload'
        ? [...base, '-T', source, `ftp://127.0.0.1:${s.port}/up.bin`]
        : [...base, '-o', got, `ftp://127.0.0.1:${s.port}/down.bin`];
    };
    const ferryArgs = (proto: Proto, direction: Direction) =>
      direction === 'upload' ? [clientScript, connFiles[proto], 'put', source, 'up.bin'] : [clientScript, connFiles[proto], 'get', 'down.bin', got];

    const cases: TransferCase[] = [];
    const targets: Record<Proto, Record<Direction, number>> = {
      SFTP: { upload: 1.25, download: 1.5 },
      FTP: { upload: 1.6, download: 1.6 },
      FTPS: { upload: 1.6, download: 1.6 },
    };
    for (const proto of ['SFTP', 'FTP', 'FTPS'] as const) {
      for (const direction of ['upload', 'download'] as const) {
        const nativeId = `${proto.toLowerCase()}-${direction}-native`;
        const nativeLabel = proto === 'SFTP' ? `OpenSSH sftp -b (${direction === 'upload' ? 'put' : 'get'})` : `curl ${direction === 'upload' ? '-T' : '-o'}`;
        cases.push({
          id: nativeId,
          label: `${proto} ${direction}: ${nativeLabel}`,
          proto,
          direction,
          tool: 'native',
          run: () =>
            proto === 'SFTP'
              ? transfer(proto, direction, 'sftp', sftpArgs(direction === 'upload' ? putBatch : getBatch), false)
              : transfer(proto, direction, 'curl', curlArgs(proto, direction), false),
        });
        if (proto === 'SFTP' && direction === 'download') {
          // ferry fsyncs every download before it reports it; OpenSSH does so only with -f.
          cases.push({
            id: 'sftp-download-native-fsync',
            label: 'SFTP download: OpenSSH sftp -f -b (get + fsync; diagnostic)',
            proto,
            direction,
            tool: 'diagnostic',
            baseline: nativeId,
            run: () => transfer(proto, direction, 'sftp', sftpArgs(getBatch, true), false),
          });
        }
        const args = ferryArgs(proto, direction);
        cases.push({
          id: `${proto.toLowerCase()}-${direction}-ferry`,
          label: `${proto} ${direction}: ferry ${proto === 'SFTP' ? 'SFTP' : 'FTP'} transport`,
          proto,
          direction,
          tool: 'ferry',
          baseline: nativeId,
          maxRatio: targets[proto][direction],
          ferryArgs: args,
          run: () => transfer(proto, direction, process.execPath, args, true),
        });
      }
    }

    out();
    const res = await runInterleaved(ctx, cases);
    report(ctx, cases, res, size, problems);

    // Where the time goes, for ferry cases that missed a target.
    if (ctx.profile) {
      for (const c of cases) {
        const s = res.get(c.id)!;
        const base = res.get(c.baseline ?? '')?.seconds;
        const timeMiss = c.tool === 'ferry' && s.seconds !== undefined && base !== undefined && s.seconds / base > c.maxRatio!;
        const rssMiss = c.tool === 'ferry' && s.rssKiB !== undefined && s.rssKiB / 1024 >= RSS_TARGET_MIB;
        if (!timeMiss && !rssMiss) continue;
        const landed = c.direction === 'upload' ? join(rootOf(c.proto), 'up.bin') : got;
        out();
        out(`CPU profile: ${c.label} (missed: ${[timeMiss ? 'time' : '', rssMiss ? 'RSS' : ''].filter(Boolean).join(', ')})`);
        const text = profileNode(ctx, c.id, c.ferryArgs!, { cwd: work, after: () => rmSync(landed, { force: true }) });
        for (const l of text) out(`  ${l}`);
      }
    }
  } finally {
    await stopServers();
    rmSync(work, { recursive: true, force: true });
  }
  return problems;
}

function report(ctx: PartContext, cases: TransferCase[], res: Map<string, CaseSummary>, size: number, problems: string[]): void {
  const { out } = ctx;
  const mbps = (s: number | undefined) => (s ? (size / 1e6 / s).toFixed(0) : '—');
  const rows: Cell[][] = [];
  const ratioOf = (c: TransferCase): number | undefined => {
    const s = res.get(c.id)?.seconds;
    const b = res.get(c.baseline ?? '')?.seconds;
    return s !== undefined && b ? s / b : undefined;
  };
  for (const c of cases) {
    const s = res.get(c.id)!;
    rows.push([
      `${c.label}${s.samples.length ? '' : ' (FAILED)'}`,
      mbps(s.seconds),
      fixed(s.seconds),
      s.min === undefined ? '—' : `${fixed(s.min)}–${fixed(s.max)}`,
      mib(s.rssKiB),
      c.tool === 'native' ? '1.00' : ratioText(ratioOf(c)).replace('×', ''),
    ]);
    if (s.errors.length) problems.push(`${c.id} failed in ${s.errors.length} of ${ctx.repeat} runs; first error: ${s.errors[0]!.split('\n')[0]}`);
  }
  const head = ['case', 'MB/s', 'seconds', 'min–max', 'peak RSS MiB', '× native'];
  out();
  out(`Transfer results (${(size / 2 ** 20).toFixed(0)} MiB; MB/s = 10^6 bytes per second of the median time; peak RSS of the client process):`);
  for (const l of textTable(head, rows)) out(l);

  const lines: string[] = [];
  for (const c of cases) {
    if (c.tool !== 'ferry') continue;
    const r = ratioOf(c);
    const base = cases.find((x) => x.id === c.baseline)!;
    lines.push(`${r === undefined ? 'FAIL' : verdict(r <= c.maxRatio!)}  time ≤ ${c.maxRatio}× native   ${c.label} vs ${base.label.split(': ')[1]}: ${r === undefined ? 'no ratio (a run failed)' : ratioText(r)}`);
    const fsynced = res.get('sftp-download-native-fsync')?.seconds;
    const own = res.get(c.id)?.seconds;
    if (c.id === 'sftp-download-ferry' && fsynced && own) {
      lines.push(`info  ${c.label} vs OpenSSH sftp -f (get + fsync, like ferry): ${ratioText(own / fsynced)} (not a target)`);
    }
  }
  for (const c of cases) {
    if (c.tool !== 'ferry') continue;
    const s = res.get(c.id)!;
    lines.push(`${s.rssKiB === undefined ? 'FAIL' : verdict(s.rssKiB / 1024 < RSS_TARGET_MIB)}  peak RSS < ${RSS_TARGET_MIB} MiB   ${c.label}: ${mib(s.rssKiB)} MiB`);
  }
  out();
  out('Transfer targets:');
  for (const l of lines) out(`  ${l}`);
  const ok = [...res.values()].reduce((n, s) => n + s.samples.length, 0);
  out(`Checks: ${ok} timed transfers succeeded; in each, the file where it landed matched the source's size and sha256`);
  out();
  out('Markdown (for BENCHMARKS.md):');
  out();
  for (const l of markdownTable(head, rows)) out(l);
  out();
  for (const l of lines) out(`- ${l.replace(/^(PASS|FAIL|info)/, '**$1**')}`);
}
