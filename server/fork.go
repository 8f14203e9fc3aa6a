package server

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Issue 14: a copied data folder. Two copies of one replica file (a
// restored backup, a second laptop set up by copying) number their changes
// as one replica. The server tells them apart by content: it keeps a
// digest of every change it took from a replica, so a change pushed again
// with a sequence it holds is either the same change (its Ack was lost:
// duplicate, or refused again) or another copy's (a fork). From the first
// forked change on, nothing of the batch is taken: each change is answered
// refused with code replica_forked (and stored nowhere: the sequence
// belongs to the copy that pushed first), and the session ends with a
// fatal replica_forked after the Ack, so a pipelined batch behind it is
// never applied either. The agent then takes a new replica id for its
// copy (POST /v1/fork, fork_http.go) and pushes its changes again under
// it.

// DigestWindow is how many of a replica's newest digests collection keeps.
// A legitimate re-push (a lost Ack) is never further behind than what an
// agent keeps in flight (4 batches of at most 2,000 changes, again after
// each lost connection). An older copy finds itself behind
// (Welcome.PushedSeq above what it ever sent) and pushes what it holds up
// to PushedSeq under the old id, to be told duplicates from forks; below
// the window the server cannot tell, and answers replica_forked
// (forkCheck.repushed, DigestFloor).
const DigestWindow = 20_000

// Digest is the digest of one change a replica pushed, by its sequence.
// HLC is the stamp the change holds on the server: the one it was pushed
// with (marked asPushed), or the one the server gave it when it restamped
// it (PROTOCOL §7.4 rule 5); a digest stored before the server kept every
// stamp holds 0 where it kept the change's own. A change pushed again under another
// stamp (its Ack lost after a restamp, or pushed by another copy of the
// folder) is answered with it (duplicateStamp), so the client adopts the
// stamp the server holds. The digest keeps it because a legitimate
// re-push is always within its window, while the log has no index by
// origin and may have compacted the entry, and the row may hold a later
// version by then.
type Digest struct {
	Seq    uint64
	Digest uint64
	HLC    syncproto.HLC
}

// DigestTx is the part of a write transaction that keeps change digests
// (server/storetest checks them).
type DigestTx interface {
	// AddDigests records the digests of changes of origin the server took.
	AddDigests(origin syncproto.ReplicaID, ds []Digest) error
	// Digests returns the stored digests of origin's changes with a
	// sequence in [from, to], by sequence, this transaction's own
	// included. A digest stored before the store kept restamps has HLC 0.
	Digests(origin syncproto.ReplicaID, from, to uint64) (map[uint64]Digest, error)
	// DigestFloor is the highest sequence of origin whose digest
	// collection may have dropped (CollectDigests): 0 when none.
	DigestFloor(origin syncproto.ReplicaID) (uint64, error)
}

// changeDigest is a 64-bit FNV-1a digest of a change as its replica sent
// it: what the change is (row, field, value, its base). Its HLC is left
// out: two copies of a data folder hold the same unsent writes, and each
// restamps them at its own Welcome (§8.6) or not at all (a copy behind
// the other keeps the stamps it made them with), so one write comes from
// the two under two stamps; taken for a fork, its second push was sent
// again under a new id and every laptop listed a conflict of a value with
// itself. The scope is left out too: an agent may file a pending change
// under the row's new hamlet. legacyDigest is the form kept before.
func changeDigest(c *syncproto.Change) uint64 { return digestOf(c, false) }

// ChangeDigest is changeDigest for checks outside the package: the digest
// the server keeps of each change it takes (sync_digests), against which
// the simulation holds every change it acknowledges (internal/simtest).
func ChangeDigest(c *syncproto.Change) uint64 { return changeDigest(c) }

// legacyDigest is the digest stored before changeDigest left the HLC out
// (the HLC as pushed, after the value): a stored digest matches either.
func legacyDigest(c *syncproto.Change) uint64 { return digestOf(c, true) }

func digestOf(c *syncproto.Change, withHLC bool) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	add := func(b []byte) {
		for _, x := range b {
			h ^= uint64(x)
			h *= prime
		}
	}
	var n [8]byte
	num := func(v uint64) {
		binary.LittleEndian.PutUint64(n[:], v)
		add(n[:])
	}
	str := func(s string) {
		num(uint64(len(s)))
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime
		}
	}
	str(c.Table)
	add(c.Row[:])
	str(c.Field)
	add([]byte{byte(c.Value.Kind())})
	num(uint64(c.Value.AsInt()))
	str(c.Value.AsString())
	if withHLC {
		num(uint64(c.HLC))
	}
	add(c.Base.Replica[:])
	num(c.Base.Seq)
	return h
}

// forkCheck is one batch's digest bookkeeping: the digests of the changes
// it takes, and the check of the ones pushed again.
type forkCheck struct {
	tx     DigestTx
	origin syncproto.ReplicaID
	held   uint64            // the origin's highest sequence before the batch
	top    uint64            // the batch's highest sequence of origin
	stored map[uint64]Digest // digests of the batch's re-pushed sequences, read at the first
	took   []Digest
	at     uint64  // the first forked sequence; 0: none
	floor  *uint64 // the origin's digest floor, read at the first re-push without a digest
}

func newForkCheck(tx Tx, origin syncproto.ReplicaID, held uint64, changes []syncproto.Change) *forkCheck {
	f := &forkCheck{tx: tx, origin: origin, held: held}
	for i := range changes {
		if changes[i].Dot.Replica == origin {
			f.top = max(f.top, changes[i].Dot.Seq)
		}
	}
	return f
}

// forked: a change of the batch was another copy's, so none after it is
// taken.
func (f *forkCheck) forked() bool { return f.at != 0 }

// repushed checks a change whose sequence the server holds: true if the
// server holds other content under it (a fork), or may (its digest
// collected).
func (f *forkCheck) repushed(c *syncproto.Change) (bool, error) {
	if f.stored == nil {
		// Changes come in ascending order: the first re-pushed one is the
		// lowest.
		var err error
		if f.stored, err = f.tx.Digests(f.origin, c.Dot.Seq, min(f.held, f.top)); err != nil {
			return false, fmt.Errorf("read change digests: %w", err)
		}
	}
	d, ok := f.stored[c.Dot.Seq]
	if !ok {
		// No digest: taken before digests were kept (answered as a
		// duplicate, as ever), or collected. A legitimate re-push is never
		// that far behind (DigestWindow); a sequence collection passed is
		// another copy's, far behind the one that pushed it first: its
		// content is unknown, and answered duplicate it was lost (review
		// 35c). It is forked: pushed again under a new id, nothing is lost
		// (a restored backup that far behind may list conflicts between a
		// value and itself).
		if f.floor == nil {
			floor, err := f.tx.DigestFloor(f.origin)
			if err != nil {
				return false, fmt.Errorf("read the digest floor: %w", err)
			}
			f.floor = &floor
		}
		if c.Dot.Seq > *f.floor {
			return false, nil
		}
	} else if d.Digest == changeDigest(c) || d.Digest == legacyDigest(c) {
		return false, nil
	}
	f.at = c.Dot.Seq
	return true, nil
}

// asPushed marks a stored stamp the server kept as the change was pushed
// (Digest.HLC): one without it is a stamp the server gave the change
// (restamped, §7.4 rule 5; a digest stored before stop 50 holds only
// these). A pushed HLC never reaches this bit (48 bits of milliseconds,
// shifted 16).
const asPushed syncproto.HLC = 1 << 62

// take notes the digest of a change the server takes (applied, superseded
// or refused: its sequence is spent either way), with its HLC as pushed.
// Called before the change is applied, which may restamp it (restamped).
func (f *forkCheck) take(c *syncproto.Change) {
	f.took = append(f.took, Digest{Seq: c.Dot.Seq, Digest: changeDigest(c), HLC: c.HLC | asPushed})
}

// laterCopy: the change, pushed again with the content the server holds
// under its sequence, is another copy's write made later than the one
// the server holds (pushed with a later stamp than the one the server
// kept as pushed; a lost Ack's re-push has the stamp the server kept, and
// one the server restamped is answered duplicate as ever). Such a copy
// made its write on its own, after the copy of the folder: taken for the
// held one, it would take that one's stamp, and lose where it wins (the
// held write overwritten or beaten since, by a version the later one
// beats: helper 215). The caller forks it (fork) when it would win.
func (f *forkCheck) laterCopy(c *syncproto.Change) bool {
	h := f.stored[c.Dot.Seq].HLC
	return h&asPushed != 0 && c.HLC > h&^asPushed
}

// fork makes the change the batch's first forked one.
func (f *forkCheck) fork(c *syncproto.Change) { f.at = c.Dot.Seq }

// restamped notes the stamp the server gave the change taken last.
func (f *forkCheck) restamped(h syncproto.HLC) {
	f.took[len(f.took)-1].HLC = h
}

// duplicateStamp is the result HLC of a change pushed again (repushed said
// it is no fork): the stamp the change holds on the server, when that is
// not the one pushed (the server restamped it, or another copy of the
// folder pushed it under another stamp); 0 when they agree or the server
// keeps no stamp of it (no digest: collected, or taken before digests
// were kept; a digest stored before the server kept every stamp holds
// one only where it restamped).
func (f *forkCheck) duplicateStamp(c *syncproto.Change) syncproto.HLC {
	if h := f.stored[c.Dot.Seq].HLC &^ asPushed; h != 0 && h != c.HLC {
		return h
	}
	return 0
}

// save stores the digests of the changes taken.
func (f *forkCheck) save() error {
	if len(f.took) == 0 {
		return nil
	}
	if err := f.tx.AddDigests(f.origin, f.took); err != nil {
		return fmt.Errorf("store change digests: %w", err)
	}
	return nil
}

// result is the answer to a change the server did not take because its
// replica forked: refused, with a reason naming the sequence (no personal
// data). An agent built before issue 14 keeps it in its rejected list.
func (f *forkCheck) result() syncproto.Result {
	why := refusal.Why(refusal.Forked, "seq", strconv.FormatUint(f.at, 10))
	return syncproto.Result{Status: syncproto.ResultRefused, Code: syncproto.CodeReplicaForked, Reason: refusal.Compat(syncproto.CodeReplicaForked, why), Why: why}
}

// errReplicaForked ends the session after the Ack of a forked batch.
var errReplicaForked = syncproto.Errorf(syncproto.CodeReplicaForked,
	"a change of this replica reached the server with other content from another copy of its data folder; take a new replica id (POST /v1/fork) and push the changes again under it")

// endForkedLocked ends the session whose batch forked, after its Ack, so a
// batch pipelined behind it is never applied. Callers hold opMu.
func (c *conn) endForkedLocked(out *pushOutcome) {
	if out.forked == 0 {
		return
	}
	c.s.log.Warn("replica forked: two copies of one data folder push as one replica", LogDevice, c.dev.ID,
		LogReplica, c.dev.Replica.String(), LogSeq, out.forkedAt, LogChanges, out.forked)
	c.failLocked(errReplicaForked)
}
