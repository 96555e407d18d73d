/** `ferry check`: definitions are already validated by loading; here we reach every connection. */
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
      } else {
        const t = await session.transport(name);
        const info = await t.describe();
        out.push({ name, type: conn.type, ok: true, detail: info.map(([k, v]) => `${k}: ${v}`).join('; ') });
      }
    } catch (e) {
      out.push({ name, type: conn.type, ok: false, detail: describeError(e) });
    }
  }
  return out;
}
