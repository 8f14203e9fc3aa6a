// The PouchDB side of make bench-vs-bare's no-op sync and first clone,
// timed as a whole process like hamlet-agent sync: opens the local LevelDB
// database, replicates with the remote to the end, closes both and exits.
// Prints what each direction read and wrote, as JSON: {"push_read": n,
// "push_written": n, "pull_read": n, "pull_written": n}; a no-op sync
// prints zeros.
//
// Without --clone, one PouchDB.sync (push and pull, as Hamlet's sync pushes
// and pulls). With DOCS.json (the setup, untimed), first writes those
// documents into the local database, 1,000 per bulkDocs call, as a laptop
// that imported its households before its first sync.
//
// With --clone, one PouchDB.replicate from the remote into LOCALDIR, which
// must not exist yet (a fresh, empty database: a laptop's first sync);
// push_read and push_written are 0.
//
//   node sync.js LOCALDIR URL [DOCS.json]   (NODE_PATH: where npm put pouchdb-node)
//   node sync.js --clone LOCALDIR URL
const fs = require('fs');
const PouchDB = require('pouchdb-node');

(async () => {
  const clone = process.argv[2] === '--clone';
  const [localDir, url, docsFile] = process.argv.slice(clone ? 3 : 2);
  if (clone && fs.existsSync(localDir)) throw new Error('--clone: ' + localDir + ' exists');
  const local = new PouchDB(localDir);
  const remote = new PouchDB(url);
  if (docsFile) {
    const docs = JSON.parse(fs.readFileSync(docsFile, 'utf8'));
    for (let i = 0; i < docs.length; i += 1000) {
      const res = await local.bulkDocs(docs.slice(i, i + 1000));
      for (const x of res) if (x.error) throw new Error('bulkDocs: ' + x.error);
    }
  }
  const res = clone
    ? { push: { docs_read: 0, docs_written: 0 }, pull: await PouchDB.replicate(remote, local) }
    : await PouchDB.sync(local, remote);
  await local.close();
  await remote.close();
  console.log(JSON.stringify({
    push_read: res.push.docs_read, push_written: res.push.docs_written,
    pull_read: res.pull.docs_read, pull_written: res.pull.docs_written,
  }));
  // Node's HTTP agent keeps the loopback connection alive for a while:
  // exit now, as hamlet-agent exits when its sync is done.
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
