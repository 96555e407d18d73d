/**
 * The database servers integration tests use: the machine's PostgreSQL and MariaDB on loopback.
 * FERRY_TEST_PG_URL / FERRY_TEST_MYSQL_URL point elsewhere; the value `skip` leaves those tests
 * out on purpose. An unreachable server is a failure, never a silent skip.
 */
export const PG_URL = process.env.FERRY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env.FERRY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const SKIP_PG = PG_URL === 'skip' ? 'FERRY_TEST_PG_URL=skip' : false;
export const SKIP_MYSQL = MYSQL_URL === 'skip' ? 'FERRY_TEST_MYSQL_URL=skip' : false;
