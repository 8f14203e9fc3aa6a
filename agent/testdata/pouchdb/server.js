// The remote of make bench-vs-bare's PouchDB no-op sync and first clone:
// a CouchDB-protocol HTTP server (express-pouchdb, the server part of
// pouchdb-server, in its minimumForPouchDB mode) on loopback, its databases
// LevelDB folders under DBDIR. Prints its URL on stdout once it listens;
// exits when its stdin closes (the benchmark ends, or dies), so it never
// outlives the run.
//
//   node server.js DBDIR   (NODE_PATH: where npm put pouchdb-node, express-pouchdb and express)
const express = require('express');
const expressPouchDB = require('express-pouchdb');
const PouchDB = require('pouchdb-node');

const dbDir = process.argv[2];
const app = express();
app.use('/', expressPouchDB(PouchDB.defaults({ prefix: dbDir + '/' }), { mode: 'minimumForPouchDB' }));
const srv = app.listen(0, '127.0.0.1', () => {
  console.log('http://127.0.0.1:' + srv.address().port);
});
srv.on('error', (e) => { console.error(e); process.exit(1); });
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
