import { defineExport } from 'ferry';

// Several files a day are possible: {seq:00} counts them per date.
export default defineExport({
  description: 'Payments of the business date as JSON Lines',
  schedule: '0 7 * * *',
  source: {
    connection: 'shop',
    sql: `select p.id, p.order_id, p.amount, p.method, p.paid_at
            from payments p where p.paid_at >= :from and p.paid_at < :to order by p.id`,
  },
  format: { type: 'jsonl', columns: ['id', 'order_id', { name: 'amount', type: 'decimal' }, 'method', { name: 'paid_at', type: 'timestamp' }] },
  file: { name: 'payments_{date:yyyyMMdd}_{seq:00}.jsonl', checksum: 'sha256' },
  deliver: [{ connection: 'partner', dir: 'inbound/payments', mkdir: true }],
});
