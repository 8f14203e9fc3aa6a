// The PouchDB side of make bench-vs-bare: bulkDocs of the benchmark's
// records, 1,000 per call (how PouchDB apps write many documents), into a
// fresh database each run. Prints the milliseconds of each run, wall and
// CPU (user + system, of every thread of the process: leveldown writes on
// libuv's), as JSON: {"ms": [...], "cpu_ms": [...]}.
//
//   node bulkdocs.js DOCS.json DBDIR RUNS   (NODE_PATH: where npm put pouchdb-node)
const fs = require('fs');
const PouchDB = require('pouchdb-node');

(async () => {
  const [docsFile, dbDir, runs] = process.argv.slice(2);
  const docs = JSON.parse(fs.readFileSync(docsFile, 'utf8'));
  const out = [], cpu = [];
  for (let r = 0; r < Number(runs); r++) {
    const db = new PouchDB(dbDir + '-' + r);
    const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
    for (let i = 0; i < docs.length; i += 1000) {
      const res = await db.bulkDocs(docs.slice(i, i + 1000));
      for (const x of res) if (x.error) throw new Error('bulkDocs: ' + x.error);
    }
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
    await db.destroy();
  }
  console.log(JSON.stringify({ ms: out, cpu_ms: cpu }));
})().catch((e) => { console.error(e); process.exit(1); });
