import { defineImport } from 'ferry';

// The bank drops a CP949 (Korean Windows) CSV with a trailer into var/bank/outbound; we check it,
// load it once into the shop database and move it to outbound/done.
export default defineImport({
  description: 'Daily settlements from the bank',
  schedule: '*/10 6-10 * * *',
  businessDate: 'today',
  fetch: {
    connection: 'bank',
    dir: 'outbound',
    file: 'settle_{date:yyyyMMdd}.csv',
    stableFor: '1s',
    after: { moveTo: 'outbound/done' },
  },
  deadline: '09:30',
  format: {
    type: 'csv',
    encoding: 'cp949',
    columns: {
      정산번호: { type: 'string', as: 'settlement_id' },
      가맹점: { type: 'string', as: 'merchant' },
      금액: { type: 'decimal', as: 'amount' },
      정산일시: { type: 'timestamp', as: 'settled_at' },
    },
    trailer: 'TOTAL,{count},{sum:금액}',
  },
  checks: { minRows: 1 },
  load: { connection: 'shop', table: 'settlements', mode: 'upsert', key: ['settlement_id'] },
});
