package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Issue 14: a copied data folder. A replica file copied to a second laptop,
// or restored from a backup while the original lives on, writes under the
// same replica id as its original: the two number their changes 1, 2, 3,
// ... as one replica, and neither ever pulls the other's writes (a pull
// leaves out the puller's own replica). Such a copy is a fork, found two
// ways:
//
//   - by this file: the server holds changes of the replica above the
//     highest this file ever sent (Welcome.PushedSeq above sent_seq, which
//     is written before every push): another copy pushed them;
//   - by the server: a change this file pushes with a sequence the server
//     holds under other content is answered refused with code
//     replica_forked, and the session ends (server/fork.go).
//
// Either way this copy continues under a new replica id: it pushes what it
// sent under the old id (the server answers those from what it holds:
// duplicate, or refused again, or forked), asks the server for a device of
// the new id (POST /v1/fork, with the token it holds), then in one
// transaction renumbers every change it has not had taken as the new
// replica's, continuing after its own counter, rewrites every dot naming
// them (row versions and history, later changes' bases, conflicts), and
// clones again to get what the other copy wrote under the old id. Values
// and HLCs stay as they were: each record keeps its author (volunteer_id is
// a value) and its time. Nothing is lost and nothing is sent twice under
// two names.

// renumberAway moves the writes kept for rows away, and the bases naming
// them, with the change m renumbers (through m.new's negative, as the
// outbox). A kept write of the old id with no outbox entry (answered
// superseded, whose winner this file has not met) keeps its dot: the
// server holds it under that id, and the superseded note names it so.
// kept says whether own_away holds a write kept to start from (not only
// notes of taken writes): the bases of notes are never read (a note is
// compared by its dot and value, takeAway), and their rewrite, which no
// index serves, read every note once per change renumbered: a fork of
// 2,000 changes beside 20,000 notes took seconds.
func (t *txn) renumberAway(m forkMove, oldB, newB []byte, kept bool) error {
	if m.renumber {
		if err := t.exec(`UPDATE own_away SET replica = ?, seq = ? WHERE replica = ? AND seq = ?`, newB, -m.new, oldB, m.old); err != nil {
			return fmt.Errorf("fork: kept writes: %w", err)
		}
		if err := t.exec(`UPDATE own_away_hist SET replica = ?, seq = ? WHERE replica = ? AND seq = ?`, newB, -m.new, oldB, m.old); err != nil {
			return fmt.Errorf("fork: kept history: %w", err)
		}
	}
	if !kept {
		return nil // own_away_hist holds the history of kept writes alone
	}
	for _, tbl := range [...]string{"own_away", "own_away_hist"} {
		if err := t.exec(`UPDATE `+tbl+` SET base_replica = ?, base_seq = ? WHERE base_replica = ? AND base_seq = ?`, newB, -m.new, oldB, m.old); err != nil {
			return fmt.Errorf("fork: kept bases: %w", err)
		}
	}
	return nil
}

// Meta keys of a fork under way. fork_replica, fork_start and fork_due are
// written together when the fork is found, so that a fork interrupted at
// any point resumes with the same new id and numbering (the server may
// already have made the device).
const (
	// metaForkDue: a fork is due. Its value is the highest sequence still
	// pushed under the old id first (those this file sent before it knew);
	// changes above it wait for the new id.
	metaForkDue = "fork_due"
	// metaForkReplica: the new replica id.
	metaForkReplica = "fork_replica"
	// metaForkStart: the new replica's numbering starts after it (this
	// file's counter when the fork was found): the changes it renumbers
	// take start+1, start+2, ...; those it keeps refused keep their
	// numbers, which the new replica never issues.
	metaForkStart = "fork_start"
	// metaForkToken: the new device's token, until the caller has stored
	// it (SyncOptions.SaveToken).
	metaForkToken = "fork_token"
	// metaFormerIDs: the replica ids this file wrote under before, as a
	// JSON list: what they wrote is still "this laptop's" (lists.go).
	metaFormerIDs = "former_replicas"
)

// ForkInfo says that a sync found this data folder to be a copy and what
// it did about it.
type ForkInfo struct {
	OldReplica string `json:"old_replica"`
	NewReplica string `json:"new_replica"`
	DeviceID   string `json:"device_id"`
	// Renumbered is how many changes not yet taken now carry the new id.
	Renumbered int `json:"renumbered"`
	// Copy: the fork is this folder's, found a copy, not only the one
	// that sends again what a restored server lost (resendLost), which
	// SyncSummary.Resent says. A summary that tells both tells both.
	Copy bool `json:"copy,omitempty"`
}

// errForkDue ends a session whose replica must take a new id first.
var errForkDue = errors.New("agent: this data folder is a copy of another: a new replica id is due")

// forkNeeded: err asks for a fork (this file found it, or the server).
func forkNeeded(err error) bool {
	var se *ServerError
	return errors.Is(err, errForkDue) || errors.As(err, &se) && se.Code == syncproto.CodeReplicaForked
}

// forkBound is read at Welcome: whether a fork is due, and the highest
// sequence still pushed under the old id before it. pushed is
// Welcome.PushedSeq.
// It reads what plan read of the replica (planNotes); wrote says it
// noted a fork due, in a write transaction of its own.
func (r *Replica) forkBound(ctx context.Context, pushed uint64, p *planNotes) (bound uint64, due, wrote bool, err error) {
	if v := p.forkDue; v != "" {
		b, err := r.noteUint(metaForkDue, v)
		return b, err == nil, false, err
	}
	lagging := false
	// An agent before issue 14 kept the server's replica_forked answers in
	// its rejected list (p.forkedRefused): this one renumbers them.
	if !p.forkedRefused {
		sent := p.sentSeq
		if sent == "" {
			return 0, false, false, nil // a file older than the sent_seq mark is not checked here
		}
		sentSeq, err := r.noteUint("sent_seq", sent)
		if err != nil {
			return 0, false, false, fmt.Errorf("fork check: %w", err)
		}
		if pushed <= sentSeq {
			return 0, false, false, nil
		}
		lagging = true
	}
	t, err := r.begin(ctx)
	if err != nil {
		return 0, false, false, err
	}
	defer t.rollback()
	b := uint64(0)
	if lagging {
		b = pushed
	}
	if b, err = t.markForkDue(b); err != nil {
		return 0, false, false, err
	}
	return b, true, true, t.commit()
}

// markForkDue notes in t that a fork is due, pushing nothing above bound
// under the old id, and fixes the new id and numbering if not done yet.
// It returns the bound in force.
func (t *txn) markForkDue(bound uint64) (uint64, error) {
	rep, err := t.r.meta(t.ctx, t.tx, metaForkReplica)
	if err != nil {
		return 0, err
	}
	counter, err := t.metaInt("seq")
	if err != nil {
		return 0, err
	}
	if rep == "" {
		if err := t.setMeta(metaForkReplica, t.r.newID().String()); err != nil {
			return 0, err
		}
		if err := t.setMeta(metaForkStart, counter); err != nil {
			return 0, err
		}
	}
	start, err := t.metaInt(metaForkStart)
	if err != nil {
		return 0, err
	}
	// Only what this file held when the fork was found is pushed under the
	// old id: a write made since is the new replica's.
	bound = min(bound, uint64(start))
	if cur, err := t.r.meta(t.ctx, t.tx, metaForkDue); err != nil {
		return 0, err
	} else if cur != "" {
		old, err := t.r.metaUint(t.ctx, t.tx, metaForkDue)
		if err != nil {
			return 0, fmt.Errorf("fork: %w", err)
		}
		bound = min(bound, old)
	}
	return bound, t.setMeta(metaForkDue, int64(bound))
}

// errServerTooOld: a server from before issue 14 cannot give a copy its
// own replica id. The changes wait in the outbox; nothing is pushed under
// the shared id meanwhile.
var errServerTooOld = &ServerError{Code: syncproto.CodeVersionMismatch,
	Msg:    "the server does not offer POST /v1/fork: update hamlet-server",
	Hint:   "Thư mục dữ liệu này là bản sao của thư mục trên một máy khác (chép thư mục hoặc khôi phục bản lưu) và máy chủ Hamlet còn quá cũ để cho nó một mã bản dữ liệu riêng. Hãy báo cán bộ CNTT cập nhật hamlet-server rồi đồng bộ lại. Dữ liệu trên máy vẫn an toàn: các thay đổi chưa gửi sẽ được gửi sau khi cập nhật.",
	HintEN: "This data folder is a copy of another laptop's folder (a copied folder or a restored backup) and the Hamlet server is too old to give it a replica id of its own. Ask IT staff to update hamlet-server, then sync again. Your data on this laptop is safe: the unsynced changes are sent once it is updated.",
}

// fork takes the new replica id: the server makes its device (token is the
// one this file holds), then this file renumbers its changes. It returns
// the new device's token; until the caller has stored it (SaveToken), it
// stays in the file (PendingToken).
func (r *Replica) fork(ctx context.Context, server, token string) (string, *ForkInfo, error) {
	rep, err := r.meta(ctx, r.db, metaForkReplica)
	if err != nil {
		return "", nil, err
	}
	start, err := r.metaInt(ctx, r.db, metaForkStart)
	if err != nil {
		return "", nil, err
	}
	newID, err := uuid.Parse(rep)
	if err != nil {
		return "", nil, fmt.Errorf("fork: %s %q: %w", metaForkReplica, rep, err)
	}
	er, err := r.requestFork(ctx, server, token, newID, uint64(start))
	var se *ServerError
	if errors.As(err, &se) && se.Code == syncproto.CodeReplicaActive {
		// The id this file chose is another's: a copy of this folder made
		// while the fork waited chose it too and asked first. Choose
		// another (simulation wide seed 4630314).
		newID = r.newID()
		if err := setMeta(ctx, r.writer(), metaForkReplica, newID.String()); err != nil {
			return "", nil, err
		}
		er, err = r.requestFork(ctx, server, token, newID, uint64(start))
	}
	if err != nil {
		return "", nil, err
	}
	if prev, err := r.Enrollment(ctx); err == nil && prev != nil && prev.ServerID != "" && er.ServerID != "" && prev.ServerID != er.ServerID {
		return "", nil, &OtherServerError{Held: prev.ServerID, New: er.ServerID, Used: true}
	}
	info, err := r.restamp(ctx, newID, uint64(start), er)
	if err != nil {
		return "", nil, err
	}
	return er.Token, info, nil
}

func (r *Replica) requestFork(ctx context.Context, server, token string, id syncproto.ReplicaID, start uint64) (*syncproto.EnrollResponse, error) {
	u, err := NormalizeServerURL(server)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	body, _ := json.Marshal(syncproto.ForkRequest{ReplicaID: id.String(), StartSeq: start, Label: host, Client: ClientName()})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String()+"/v1/fork", bytes.NewReader(body))
	if err != nil {
		return nil, &ConnectError{URL: u.String(), NotHamlet: true, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", ClientName())
	resp, err := r.httpc.Do(req)
	if err != nil {
		return nil, &ConnectError{URL: u.String(), Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &ConnectError{URL: u.String(), Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		if se := parseErrorBody(resp.StatusCode, data); se != nil {
			return nil, se
		}
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			return nil, errServerTooOld
		}
		return nil, notHamlet(u.String(), resp.StatusCode, data, " on POST /v1/fork")
	}
	er, err := parseEnrollResponse(data)
	if err != nil {
		return nil, &ConnectError{URL: u.String(), NotHamlet: true, Err: err}
	}
	return er, nil
}

// forkMove is one outbox entry's number before and after a fork, and
// whether it is renumbered (not taken yet) or keeps its number (refused).
type forkMove struct {
	old, new int64
	renumber bool
}

// rebaseOffKeptRefusals gives every renumbered change based on a change
// kept refused (its number kept under the new id) the base that refused
// change was written over, as a write made after the refusal arrived takes
// it (agent/write.go throughRefused): the server holds the refusal under
// the old id and would judge the renumbered change concurrent with the value its writer
// had seen (issue 17, wide seed 774991). The renumbered changes were never
// pushed under the new id, so no digest holds their old bases. It returns
// the same rewrite for a row's versions, which the caller applies after
// redotting them. Runs after the outbox is renumbered.
func (t *txn) rebaseOffKeptRefusals(moves []forkMove, id syncproto.ReplicaID) (func(*syncproto.Version), error) {
	kept := map[uint64]syncproto.Dot{}
	renumbered := map[uint64]bool{}
	for _, m := range moves {
		if m.renumber {
			renumbered[uint64(m.new)] = true
			continue
		}
		var rep []byte
		var seq int64
		if err := t.tx.QueryRowContext(t.ctx, `SELECT base_replica, base_seq FROM outbox WHERE seq = ?`, m.new).Scan(&rep, &seq); err != nil {
			return nil, fmt.Errorf("fork: the base of refused change %d: %w", m.new, err)
		}
		kept[uint64(m.new)] = dotFrom(rep, seq)
	}
	for seq := range kept {
		b := throughRefused(kept, id, syncproto.Dot{Replica: id, Seq: seq})
		if err := t.exec(`UPDATE outbox SET base_replica = ?, base_seq = ? WHERE base_replica = ? AND base_seq = ? AND state != ?`,
			replicaBytes(b), int64(b.Seq), id[:], int64(seq), outboxRejected); err != nil {
			return nil, fmt.Errorf("fork: rebase off refused change %d: %w", seq, err)
		}
	}
	return func(v *syncproto.Version) {
		if v.Dot.Replica == id && renumbered[v.Dot.Seq] {
			v.Base = throughRefused(kept, id, v.Base)
		}
	}, nil
}

// restamp makes this file the replica id, in one transaction: every change
// not taken yet (pending, awaiting a result, or refused as replica_forked
// by the server) becomes the new replica's start+1, start+2, ... in its
// order; a change kept refused keeps its number under the new id (the
// server refused it under the old one and nobody else holds it). Every dot
// that named them is rewritten with them.
func (r *Replica) restamp(ctx context.Context, id syncproto.ReplicaID, start uint64, er *syncproto.EnrollResponse) (*ForkInfo, error) {
	t, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer t.rollback()
	oldText, err := r.meta(ctx, t.tx, "replica_id")
	if err != nil {
		return nil, err
	}
	old, err := uuid.Parse(oldText)
	if err != nil {
		return nil, fmt.Errorf("fork: replica_id %q: %w", oldText, err)
	}
	if old == id {
		// Another process on this folder (a second sync) renumbered it
		// already; the server has just given the device a new token,
		// which replaces the one that process kept.
		if err := t.setMeta(metaForkToken, er.Token); err != nil {
			return nil, err
		}
		if err := t.commit(); err != nil {
			return nil, fmt.Errorf("fork: %w", err)
		}
		r.id = id
		info := &ForkInfo{NewReplica: id.String(), DeviceID: er.DeviceID}
		if former, err := r.formerIDs(ctx, r.db); err == nil && len(former) > 0 {
			info.OldReplica = former[len(former)-1]
		}
		return info, nil
	}
	if err := t.expandAllRows(); err != nil { // renumbered one by one below
		return nil, fmt.Errorf("fork: %w", err)
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT seq, row_id, state, code FROM outbox ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("fork: %w", err)
	}
	var moves []forkMove
	touched := map[syncproto.RowID]bool{}
	renum := map[uint64]uint64{}
	next := int64(start)
	for rows.Next() {
		var seq, state int64
		var rowText, code string
		if err := rows.Scan(&seq, &rowText, &state, &code); err != nil {
			rows.Close()
			return nil, fmt.Errorf("fork: %w", err)
		}
		rid, err := uuid.Parse(rowText)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("fork: outbox entry %d: %w", seq, err)
		}
		m := forkMove{old: seq, new: seq}
		if state != outboxRejected || code == string(syncproto.CodeReplicaForked) {
			next++
			m.new, m.renumber = next, true
		}
		moves = append(moves, m)
		renum[uint64(seq)] = uint64(m.new)
		touched[rid] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fork: %w", err)
	}
	// New and old numbers can overlap (writes made after the fork was
	// found): every rewrite goes through the negative of its new number,
	// and the signs are flipped at the end.
	oldB, newB := old[:], id[:]
	away, err := t.anyAway()
	if err != nil {
		return nil, fmt.Errorf("fork: %w", err)
	}
	var kept bool
	if away {
		if err := t.tx.QueryRowContext(t.ctx, `SELECT EXISTS (SELECT 1 FROM own_away WHERE NOT taken)`).Scan(&kept); err != nil {
			return nil, fmt.Errorf("fork: %w", err)
		}
	}
	for _, m := range moves {
		if m.renumber {
			if err := t.exec(`UPDATE outbox SET seq = ?, state = ?, code = CASE code WHEN '`+discardedCode+`' THEN code ELSE '' END, reason = '' WHERE seq = ?`, -m.new, outboxPending, m.old); err != nil {
				return nil, fmt.Errorf("fork: outbox: %w", err)
			}
		} else if err := t.exec(`UPDATE outbox SET seq = ? WHERE seq = ?`, -m.new, m.old); err != nil {
			return nil, fmt.Errorf("fork: outbox: %w", err)
		}
		if err := t.exec(`UPDATE outbox SET base_replica = ?, base_seq = ? WHERE base_replica = ? AND base_seq = ?`, newB, -m.new, oldB, m.old); err != nil {
			return nil, fmt.Errorf("fork: outbox bases: %w", err)
		}
		// A write kept for a row away (own_away) goes with its change:
		// the clone after the fork keeps and the row's return takes
		// only what the outbox still holds under the current id, or
		// what the server answered superseded. Nothing kept, nothing
		// to rewrite (a fork after a large import renumbers thousands
		// of changes).
		if away {
			if err := t.renumberAway(m, oldB, newB, kept); err != nil {
				return nil, err
			}
		}
		for _, side := range [...]string{"loser", "winner"} {
			if err := t.exec(`UPDATE conflicts SET `+side+`_replica = ?, `+side+`_seq = ? WHERE `+side+`_replica = ? AND `+side+`_seq = ?`, newB, -m.new, oldB, m.old); err != nil {
				return nil, fmt.Errorf("fork: conflicts: %w", err)
			}
		}
	}
	for _, q := range [...]string{
		`UPDATE outbox SET seq = -seq WHERE seq < 0`,
		`UPDATE outbox SET base_seq = -base_seq WHERE base_seq < 0`,
		`UPDATE conflicts SET loser_seq = -loser_seq WHERE loser_seq < 0`,
		`UPDATE conflicts SET winner_seq = -winner_seq WHERE winner_seq < 0`,
		`UPDATE own_away SET seq = -seq WHERE seq < 0`,
		`UPDATE own_away SET base_seq = -base_seq WHERE base_seq < 0`,
		`UPDATE own_away_hist SET seq = -seq WHERE seq < 0`,
		`UPDATE own_away_hist SET base_seq = -base_seq WHERE base_seq < 0`,
	} {
		if err := t.exec(q); err != nil {
			return nil, fmt.Errorf("fork: %w", err)
		}
	}
	redot := func(d *syncproto.Dot) {
		if d.Replica == old {
			if n, ok := renum[d.Seq]; ok {
				d.Replica, d.Seq = id, n
			}
		}
	}
	rebase, err := t.rebaseOffKeptRefusals(moves, id)
	if err != nil {
		return nil, err
	}
	for rid := range touched {
		st, err := t.get(rid)
		if err != nil {
			return nil, fmt.Errorf("fork: row %s: %w", rid, err)
		}
		if st == nil {
			continue
		}
		for _, v := range st.cur {
			redot(&v.Dot)
			redot(&v.Base)
			rebase(v)
		}
		for i := range st.hist {
			redot(&st.hist[i].Ver.Dot)
			redot(&st.hist[i].Ver.Base)
			rebase(&st.hist[i].Ver)
		}
		if err := t.save(st); err != nil {
			return nil, fmt.Errorf("fork: row %s: %w", rid, err)
		}
	}
	former, err := r.formerIDs(ctx, t.tx)
	if err != nil {
		return nil, err
	}
	fj, _ := json.Marshal(append(former, old.String()))
	e, err := r.enrollmentIn(ctx, t)
	if err != nil {
		return nil, err
	}
	if e != nil {
		e.DeviceID = er.DeviceID
		if err := t.setMetaJSON("enrollment", e); err != nil {
			return nil, err
		}
	}
	// The other copy's writes under the old id were left out of this
	// file's pulls: a clone brings them. A file that never pulled (its
	// cursor 0: a first clone cut and resumed, or not begun) left nothing
	// out. A snapshot's chunks leave out only what the pull from their
	// head brings, and that pull runs under the new id, which does not
	// leave the old one out. Asked for anyway, the clone under way ended,
	// and the next sync downloaded the whole team's data again: a
	// commune's 26,000 records twice over a 3G link.
	cursor, err := t.metaInt("cursor")
	if err != nil {
		return nil, err
	}
	for k, v := range map[string]any{
		"replica_id": id.String(), "seq": next, "sent_seq": int64(start),
		metaForkToken: er.Token, metaFormerIDs: string(fj),
		// A clone under way: nothing under the new id reached the server
		// before its head (applyAck).
		metaCloneOwnSeq: 0,
	} {
		if err := t.setMeta(k, v); err != nil {
			return nil, err
		}
	}
	if cursor != 0 {
		if err := t.setMeta(metaReclone, 1); err != nil {
			return nil, err
		}
	}
	// Nothing is acknowledged under the new id yet (resendLost).
	for _, k := range [...]string{metaForkDue, metaForkReplica, metaForkStart, metaAckedSeq} {
		if err := t.exec(`DELETE FROM agent_meta WHERE key = ?`, k); err != nil {
			return nil, err
		}
	}
	n := 0
	for _, m := range moves {
		if m.renumber {
			n++
		}
	}
	info := &ForkInfo{OldReplica: old.String(), NewReplica: id.String(), DeviceID: er.DeviceID, Renumbered: n}
	if err := t.noteForkUntold(info, 0, false); err != nil {
		return nil, fmt.Errorf("fork: note it to tell: %w", err)
	}
	// The renumbered writes are the new replica's (restampPending stamps
	// dots with r.id): restamped in the interval they were made in.
	r.id = id
	if err := t.restampRenumbered(start, moves); err != nil {
		r.id = old
		return nil, fmt.Errorf("fork: %w", err)
	}
	if err := t.commit(); err != nil {
		r.id = old
		return nil, fmt.Errorf("fork: %w", err)
	}
	if err := r.loadFormer(ctx, r.db); err != nil {
		return nil, err
	}
	return info, nil
}

// metaForkUntold holds a fork (this folder a copy, or a server that lost
// changes this laptop sent: resendLost) until a sync that ends well tells
// it (untoldFork): the fork is done in its own transaction, and the
// session after it (under the new id: the re-clone, the pull) may be cut,
// in every attempt; the sync then printed its error alone, and the next,
// which found the fork done, said nothing of it. Resent counts the
// changes queued again over every resend not told yet; Fork is the
// latest fork's, or the latest copy's while one is not told: a resend's
// fork after it must not hide that the folder is a copy (the summary
// that says the resend says no copy unless Fork.Copy).
const metaForkUntold = "fork_untold"

type untoldFork struct {
	Fork   *ForkInfo `json:"fork,omitempty"`
	Resent int       `json:"resent,omitempty"`
	// ResendFork: the fork due is a resend's alone (resendLost found
	// no fork due before its own), not a copy's.
	ResendFork bool `json:"resend_fork,omitempty"`
}

// noteForkUntold notes a fork (info, when not nil) and changes queued
// again (resent) to be told, with any not told yet; in the transaction
// that makes them, so none goes untold. resendFork: the fork the resend
// made due is its alone.
func (t *txn) noteForkUntold(info *ForkInfo, resent int, resendFork bool) error {
	u, err := metaJSON[untoldFork](t.ctx, t.r, t.tx, metaForkUntold)
	if err != nil {
		return err
	}
	u.ResendFork = u.ResendFork || resendFork
	if info != nil {
		info.Copy, u.ResendFork = !u.ResendFork, false
		if info.Copy || u.Fork == nil || !u.Fork.Copy {
			u.Fork = info
		}
	}
	u.Resent += resent
	return t.setMetaJSON(metaForkUntold, u)
}

// tellFork puts the fork not told yet (metaForkUntold) into sum, and the
// note among what sum tells, forgotten once sum reaches the volunteer.
func (r *Replica) tellFork(ctx context.Context, sum *SyncSummary) error {
	raw, err := r.meta(ctx, r.db, metaForkUntold)
	if err != nil || raw == "" {
		return err
	}
	var u untoldFork
	if json.Unmarshal([]byte(raw), &u) == nil {
		if u.Fork != nil {
			sum.Fork = u.Fork
		}
		sum.Resent = u.Resent
	}
	sum.told = append(sum.told, toldNote{metaForkUntold, raw})
	return nil
}

// tellForked is a session's last phase: a fork made before it, in this
// sync or in one cut since, goes into the summary (tellFork).
func (s *syncRun) tellForked(ctx context.Context) error { return s.r.tellFork(ctx, s.sum) }

func (r *Replica) enrollmentIn(ctx context.Context, t *txn) (*Enrollment, error) {
	s, err := r.meta(ctx, t.tx, "enrollment")
	if err != nil || s == "" {
		return nil, err
	}
	var e Enrollment
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return nil, &FileError{Path: r.path, Kind: ErrCorrupt, Err: err}
	}
	return &e, nil
}

// formerIDs are the replica ids this file wrote under before its forks.
func (r *Replica) formerIDs(ctx context.Context, q querier) ([]string, error) {
	s, err := r.meta(ctx, q, metaFormerIDs)
	if err != nil || s == "" {
		return nil, err
	}
	var ids []string
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, &FileError{Path: r.path, Kind: ErrCorrupt, Err: err}
	}
	return ids, nil
}

// PendingToken is the token of the device a fork made, until the caller
// has stored it and called TokenSaved ("" if none).
func (r *Replica) PendingToken(ctx context.Context) (string, error) {
	return r.meta(ctx, r.db, metaForkToken)
}

// TokenSaved forgets the pending token once the caller stored it.
func (r *Replica) TokenSaved(ctx context.Context) error {
	_, err := r.writer().ExecContext(ctx, `DELETE FROM agent_meta WHERE key = ?`, metaForkToken)
	return err
}

// takeToken is the token a session uses: a fork's token if one is pending
// (stored through save when given), else token.
func (r *Replica) takeToken(ctx context.Context, token string, save func(string) error) (string, error) {
	t, err := r.PendingToken(ctx)
	if err != nil || t == "" {
		return token, err
	}
	if save != nil {
		if err := save(t); err != nil {
			return "", fmt.Errorf("store the new device token: %w", err)
		}
		if err := r.TokenSaved(ctx); err != nil {
			return "", err
		}
	}
	return t, nil
}

// refreshID picks up a new replica id another process's fork committed
// (a write started before it would stamp its dots with the old one). Called
// inside a write transaction.
func (t *txn) refreshID() error {
	s, err := t.r.meta(t.ctx, t.tx, "replica_id")
	if err != nil || s == t.r.id.String() {
		return err
	}
	id, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil {
		return &FileError{Path: t.r.path, Kind: ErrCorrupt, Err: err}
	}
	t.r.id = id
	return t.r.loadFormer(t.ctx, t.tx)
}

// upTo is the prefix of cs (in sequence order) at or below seq.
func upTo(cs []syncproto.Change, seq uint64) []syncproto.Change {
	for i := range cs {
		if cs[i].Dot.Seq > seq {
			return cs[:i]
		}
	}
	return cs
}

// forkNow takes the new replica id a session asked for and returns the
// token to go on with, telling the fork in sum (tellFork).
func (r *Replica) forkNow(ctx context.Context, server, token string, opts *SyncOptions, sum *SyncSummary) (string, error) {
	if rep, err := r.meta(ctx, r.db, metaForkReplica); err != nil {
		return "", err
	} else if rep == "" {
		// The server said so without this file having noted it (its Ack
		// was lost): nothing more goes under the old id.
		t, err := r.begin(ctx)
		if err != nil {
			return "", err
		}
		defer t.rollback()
		if _, err := t.markForkDue(0); err != nil {
			return "", err
		}
		if err := t.commit(); err != nil {
			return "", err
		}
	}
	tok, _, err := r.fork(ctx, server, token)
	if err != nil {
		return "", err
	}
	// Told with the sync (or, watching, at once) from its note: a sync
	// whose sessions are all cut from here tells it the next time.
	if err := r.tellFork(ctx, sum); err != nil {
		return "", err
	}
	return r.takeToken(ctx, tok, opts.SaveToken)
}

// loadFormer caches the replica ids this file wrote under before.
func (r *Replica) loadFormer(ctx context.Context, q querier) error {
	ids, err := r.formerIDs(ctx, q)
	if err != nil {
		return err
	}
	m := make(map[syncproto.ReplicaID]bool, len(ids))
	for _, s := range ids {
		if id, err := uuid.Parse(s); err == nil {
			m[id] = true
		}
	}
	r.former.Store(&m)
	return nil
}

// mine: a write of this laptop's, under its replica id or a former one.
func (r *Replica) mine(id syncproto.ReplicaID) bool {
	if id == r.id {
		return true
	}
	m := r.former.Load()
	return m != nil && (*m)[id]
}
