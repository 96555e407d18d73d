// Sample project: the embedded defaults (SQLite source and state, a local folder as the partner).
// `npm run demo` seeds var/shop.sqlite from fixtures/shop.sql and runs the jobs in jobs/.
import { defineConfig, env } from 'ferry';

export default defineConfig({
  timezone: 'Asia/Seoul',
  workDir: 'var',
  // state: 'sqlite:var/ferry.sqlite' is the default; use 'postgres://…' when hosts share the work.
  connections: {
    shop: { type: 'database', client: 'sqlite', connection: process.env.SHOP_DB ? env('SHOP_DB') : 'var/shop.sqlite' },
    partner: { type: 'local', root: 'var/partner' },
    bank: { type: 'local', root: 'var/bank' },
  },
});
