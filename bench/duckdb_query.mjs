// duckdb_query.mjs: DuckDB's side of the query benchmark (bench/query.sh).
//
//   node bench/duckdb_query.mjs EVENTS_CSV REGIONS_CSV OUTDIR REPEAT SQL...
//
// Opens an in-memory database, loads the two CSV files with
// CREATE TABLE events/regions AS SELECT * FROM read_csv(...) (column types
// auto-detected, as a user would do it), then runs each SQL REPEAT times.
// It prints one line for the load and one per query:
//
//   load_s=L threads=T version=V
//   query=I seconds=BEST seconds_all=S1,S2,... rows=N
//
// I counts the SQL arguments from 1. Each time covers running the query
// and reading its whole result into JS (runAndReadAll), measured inside
// node: node's start-up and the load are left out. The result of the last
// run is written to OUTDIR/duckdb.qI.csv as RFC 4180 CSV without a header,
// each value as DuckDB's own text form (NULL as an empty field).
import { writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const [events, regions, outdir, repeatArg, ...queries] = process.argv.slice(2);
const repeat = Number(repeatArg);
if (!events || !regions || !outdir || !(repeat >= 1) || !queries.length) {
  console.error('usage: node duckdb_query.mjs EVENTS_CSV REGIONS_CSV ' +
    'OUTDIR REPEAT SQL...');
  process.exit(2);
}

const sqlString = (s) => "'" + s.replaceAll("'", "''") + "'";
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const now = () => process.hrtime.bigint();
const secs = (a, b) => (Number(b - a) / 1e9).toFixed(6);

const l0 = now();
await conn.run(
  `CREATE TABLE events AS SELECT * FROM read_csv(${sqlString(events)})`);
await conn.run(
  `CREATE TABLE regions AS SELECT * FROM read_csv(${sqlString(regions)})`);
const l1 = now();

const first = async (sql) => (await conn.runAndReadAll(sql)).getRowsJS()[0][0];
const nthreads = await first("SELECT current_setting('threads')");
const version = await first('SELECT version()');
console.log(`load_s=${secs(l0, l1)} threads=${nthreads} version=${version}`);

const csvField = (v) => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
};

for (let i = 0; i < queries.length; i++) {
  const times = [];
  let reader;
  for (let r = 0; r < repeat; r++) {
    const t0 = now();
    reader = await conn.runAndReadAll(queries[i]);
    const t1 = now();
    times.push(secs(t0, t1));
  }
  const rows = reader.getRows();
  writeFileSync(`${outdir}/duckdb.q${i + 1}.csv`,
    rows.map((row) => row.map(csvField).join(',') + '\n').join(''));
  const best = times.reduce((a, b) => (Number(b) < Number(a) ? b : a));
  console.log(`query=${i + 1} seconds=${best} seconds_all=${times.join(',')} ` +
    `rows=${rows.length}`);
}
conn.closeSync();
instance.closeSync();
