/** `ferry check`: definitions are already validated by loading; here we reach every connection. */
import { access, constants, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describeError } from '../errors.js';
import type { Session } from './session.js';

export interface CheckResult {
  name: string;
  type: string;
  ok: boolean;
  detail: string;
}

export async function checkConnections(session: Session, only?: Set<string>): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  try {
    await session.state();
    out.push({ name: '(state store)', type: 'state', ok: true, detail: 'opened and migrated' });
  } catch (e) {
    out.push({ name: '(state store)', type: 'state', ok: false, detail: describeError(e) });
  }
  for (const [name, conn] of Object.entries(session.project.config.connections)) {
    if (only && !only.has(name)) continue;
    try {
      if (conn.type === 'database') {
        const db = await session.database(name);
        out.push({ name, type: `database (${db.dialect})`, ok: true, detail: await db.ping() });
      } else if (conn.type === 'local') {
        const root = resolve(session.project.dir, conn.root);
        const st = await stat(root).catch(() => undefined);
        if (!st?.isDirectory()) out.push({ name, type: 'local', ok: false, detail: `folder ${conn.root} does not exist` });
        else {
          await access(root, constants.W_OK);
          out.push({ name, type: 'local', ok: true, detail: `folder ${conn.root} is writable` });
        }
      }
    } catch (e) {
      out.push({ name, type: conn.type, ok: false, detail: describeError(e) });
    }
  }
  return out;
}
