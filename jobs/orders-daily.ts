import { defineExport } from 'ferry';

export default defineExport({
  description: "Yesterday's orders for the partner",
  schedule: '0 6 * * *',
  businessDate: 'yesterday',
  source: {
    connection: 'shop',
    sql: `select o.id, c.name as customer, o.amount, o.paid, o.created_at
            from orders o join customers c on c.id = o.customer_id
           where o.created_at >= :from and o.created_at < :to
           order by o.id`,
  },
  format: {
    type: 'csv',
    delimiter: ',',
    header: true,
    lineEnding: 'crlf',
    encoding: 'utf-8',
    columns: ['id', 'customer', { name: 'amount', type: 'decimal' }, { name: 'paid', bool: ['Y', 'N'] }, { name: 'created_at', format: 'yyyy-MM-dd HH:mm:ss' }],
    trailer: 'TOTAL,{count},{sum:amount}',
  },
  file: { name: 'orders_{date:yyyyMMdd}.csv', checksum: 'sha256', doneFile: '{file}.done' },
  whenEmpty: 'send',
  deliver: [{ connection: 'partner', dir: 'inbound/orders', ifExists: 'fail', mkdir: true }],
});
