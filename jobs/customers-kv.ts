import { defineExport } from 'ferry';

// A Korean partner that reads key-value lines in EUC-KR.
export default defineExport({
  description: 'Customers changed on the business date, as key=value lines in EUC-KR',
  schedule: '30 6 * * *',
  source: {
    connection: 'shop',
    sql: `select id, name, city, updated_at from customers
           where updated_at >= :from and updated_at < :to order by id`,
  },
  format: { type: 'kv', encoding: 'euc-kr', columns: ['id', 'name', 'city', { name: 'updated_at', as: 'updated' }] },
  file: { name: 'customers_{date:yyyyMMdd}.txt' },
  deliver: [{ connection: 'partner', dir: 'inbound/customers', mkdir: true }],
});
