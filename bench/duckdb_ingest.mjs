// duckdb_ingest.mjs: DuckDB's side of the ingest benchmark (bench/ingest.sh).
//
//   node bench/duckdb_ingest.mjs CSV DBFILE [THREADS]
//
// Opens (creates) the DuckDB database file DBFILE, loads CSV into a new
// table with CREATE TABLE events AS SELECT * FROM read_csv(...) (column
// types auto-detected, as a user would do it), and prints one line:
//
//   seconds=S checkpoint_s=C rows=N threads=T version=V
//
// S times the CREATE TABLE statement alone, which commits (durably, through
// DuckDB's write-ahead log or its optimistic block writes); node's start-up
// and the opening of the database are left out. C times a CHECKPOINT after
// it, which folds everything into the database file. THREADS, when given,
// sets DuckDB's thread count; otherwise DuckDB uses one per core.
import { DuckDBInstance } from '@duckdb/node-api';

const [csv, dbfile, threads] = process.argv.slice(2);
if (!csv || !dbfile) {
  console.error('usage: node duckdb_ingest.mjs CSV DBFILE [THREADS]');
  process.exit(2);
}

const sqlString = (s) => "'" + s.replaceAll("'", "''") + "'";
const options = threads ? { threads: String(threads) } : {};
const instance = await DuckDBInstance.create(dbfile, options);
const conn = await instance.connect();

const t0 = process.hrtime.bigint();
await conn.run(
  `CREATE TABLE events AS SELECT * FROM read_csv(${sqlString(csv)})`);
const t1 = process.hrtime.bigint();
await conn.run('CHECKPOINT');
const t2 = process.hrtime.bigint();

const first = async (sql) => (await conn.runAndReadAll(sql)).getRowsJS()[0][0];
const rows = await first('SELECT count(*) FROM events');
const nthreads = await first("SELECT current_setting('threads')");
const version = await first('SELECT version()');
conn.closeSync();
instance.closeSync();

const secs = (a, b) => (Number(b - a) / 1e9).toFixed(6);
console.log(`seconds=${secs(t0, t1)} checkpoint_s=${secs(t1, t2)} ` +
  `rows=${rows} threads=${nthreads} version=${version}`);
