package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// The notes (agent_meta) are read by the commands that need them, each
// when it does. Some, not read (a torn page the database itself still
// reads: its structure is sound, quick_check finds nothing), make the
// command refuse the file as damaged (*FileError, ErrCorrupt): repair
// must find those too before it says a file is sound, and must not take
// them over into the repaired file, or every command refuses it again.
// Others, the things a sync has still to tell the volunteer, are read
// as none when they do not read (metaJSON): repair leaves them out and
// says what was not told.

// noteReads checks that a note's text reads as its command reads it.
type noteReads func(string) error

func readsJSON[T any](s string) error {
	var v T
	return json.Unmarshal([]byte(s), &v)
}

func readsUUID(s string) error {
	_, err := uuid.Parse(s)
	return err
}

func readsUint(s string) error {
	_, err := strconv.ParseUint(s, 10, 64)
	return err
}

func readsInt(s string) error {
	_, err := strconv.ParseInt(s, 10, 64)
	return err
}

// numberNotes are the notes kept as numbers (Replica.metaInt,
// Replica.metaUint): every command that reads one refuses the file when
// it is not a number (unreadNote), as for the strict notes, and repair
// leaves it out. What a repaired replica does without each is safe
// (repair_build.go, buildRepaired):
//   - seq, sent_seq: unknown, as when the settings were unreadable: the
//     counter is raised to what the log and the rows hold and to what the
//     server says it holds (closeRepairGaps); every own version the log
//     lost waits for the server to say whether it holds it; and repair
//     says it cannot tell whether unsent changes were lost.
//   - clock_last: the floor of this laptop's stamps, set again to the
//     highest stamp the repaired file holds.
//   - offset_ms, offset_wall_ms (one measurement: one unread, both go),
//     clock_set_back: the next sync measures the clock again; the
//     writes kept keep their stamps (stamp_final), whose measurement is
//     lost.
//   - fork_due, fork_start (with fork_replica: one unread, all go): the
//     next sync finds the copy again, from the server's answers.
//   - acked_seq: taken over when it reads and the replica id is kept
//     (closeRepairGaps drops the own versions rebuilt at or below it);
//     unread or absent, those at or below what the server says it holds
//     are dropped, unless a copy of the folder pushed too.
//   - the pull and clone positions, limits and counters, the WAL check's
//     counts, damage_checked: never taken over (metaSkipped): the
//     repaired replica clones again.
//   - last_sync, roster_at, log_epoch, snapshot_unsupported, clone_tombs,
//     clone_untold, resent_keep_refused, projected_schema: none is what
//     a replica that never synced, never had the news, or never upgraded
//     reads, and the next sync or Open sets them again.
//
// TestNumberNotesListed checks that every note metaInt is called with is
// here.
var numberNotes = map[string]noteReads{
	"seq": readsInt, "sent_seq": readsUint, "clock_last": readsInt,
	"offset_ms": readsInt, "offset_wall_ms": readsInt, metaClockSetBack: readsInt,
	metaForkDue: readsUint, metaForkStart: readsInt,
	"cursor": readsInt, "durable_sent": readsInt, "last_sync": readsInt,
	"clone_head": readsInt, "clone_total": readsInt, "clone_done": readsInt,
	metaReclone: readsInt, "snapshot_unsupported": readsInt, metaResentKeep: readsInt,
	metaCloneUntold: readsInt, metaCloneLimit: readsInt, metaPullLimit: readsInt,
	metaCloneTombs: readsInt, metaRosterAt: readsInt, metaChecked: readsInt,
	metaLogEpoch: readsInt, projectedKey: readsInt, metaRepairGaps: readsInt,
	metaAckedSeq: readsInt, metaBackfillCursor: readsInt, metaBackfillHead: readsInt,
	metaBackfillDone: readsInt, metaBackfillPartial: readsInt,
	metaTxnNo: readsInt, metaWALBase: readsInt, metaWALSalt: readsInt, metaWALSaltTxn: readsInt,
}

// noteGroups are notes that mean something only together: repair leaves
// out all of a group when one of them does not read.
var noteGroups = [][]string{
	{"offset_ms", "offset_wall_ms"},
	{metaForkDue, metaForkStart, metaForkReplica},
}

// unreadNote is the error of a note a command read and could not: the
// file is damaged where quick_check does not look. The replica is marked
// damaged, as Classify marks it, and the volunteer told to repair it
// (*FileError, ErrCorrupt). The error names the notes, never their text.
func (r *Replica) unreadNote(keys ...string) error {
	err := fmt.Errorf("%w: agent_meta %s", errDamagedRecord, strings.Join(keys, ", "))
	if r.replacedDamage(err) {
		return &ReplacedError{Path: r.path}
	}
	markDamaged(r.path, err)
	return &FileError{Path: r.path, Kind: ErrCorrupt, Err: err}
}

// strictNotes are the notes a command refuses the file for when they do
// not read: Replica.enrollment, formerIDs (at Open), metaList,
// carriedVersions (and its parts, carriedPartsFrom...), loadBackfill,
// the clone's own sequence (apply.go).
var strictNotes = map[string]noteReads{
	"enrollment":       readsJSON[Enrollment],
	metaFormerIDs:      readsJSON[[]string],
	metaScopeHeld:      readsJSON[[]string],
	metaScopeWritten:   readsJSON[[]string],
	metaScopeStray:     readsJSON[[]string],
	metaBackfillScopes: readsJSON[[]string],
	metaRosterUnnamed:  readsJSON[[]string],
	metaCarried:        readsJSON[map[string]string],
	metaBackfillRow:    readsUUID,
	metaCloneOwnSeq:    readsUint,
}

// UntoldNote names what a note not yet told to the volunteer was about
// (RepairReport.Untold).
type UntoldNote string

const (
	// UntoldNotices: the notices kept for the app (a change of the team's
	// hamlets, a copied data folder, changes sent again after the server
	// was restored).
	UntoldNotices UntoldNote = "notices"
	// UntoldFork: this data folder was found to be a copy, or changes the
	// server had lost were sent again.
	UntoldFork UntoldNote = "fork"
	// UntoldLost: hamlets the team no longer covers, their records
	// removed from this laptop.
	UntoldLost UntoldNote = "scope_lost"
	// UntoldFilled: hamlets the team gained, their records fetched.
	UntoldFilled UntoldNote = "scope_gained"
)

// untoldNotes are the notes of things a sync has still to tell: read as
// none when they do not read.
var untoldNotes = map[string]struct {
	reads noteReads
	what  UntoldNote
}{
	metaNotices:    {readsJSON[keptNotices], UntoldNotices},
	metaForkUntold: {readsJSON[untoldFork], UntoldFork},
	metaLostUntold: {readsJSON[untoldLoss], UntoldLost},
	metaFillUntold: {readsJSON[untoldFill], UntoldFilled},
}

// strictNote is the check of key when a command refuses the file for it
// unread, nil if none does.
func strictNote(key string) noteReads {
	if f, ok := strictNotes[key]; ok {
		return f
	}
	if f, ok := numberNotes[key]; ok {
		return f
	}
	if key > carriedPartsFrom && key < carriedPartsTo {
		return readsJSON[map[string]string]
	}
	return nil
}

// metaText is a note's value as the text Replica.meta reads.
func metaText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case []byte:
		return string(t)
	case int64:
		return strconv.FormatInt(t, 10)
	}
	return fmt.Sprint(v)
}

// noteUnread: a note whose text is there and does not read as reads
// would read it ("" is none, as to every reader).
func noteUnread(reads noteReads, v any) bool {
	s := metaText(v)
	return s != "" && reads(s) != nil
}

// NotesCheck finds the notes a command would refuse the file for: an
// enrollment no longer JSON, a list of hamlets, a clone's position. The
// file is marked damaged, as the command that met it would have, and a
// *FileError (ErrCorrupt) returned. DamageCheck does not read them: a
// torn page the database still reads passes quick_check. The error names
// the note, never its content.
func (r *Replica) NotesCheck(ctx context.Context) error {
	rows, err := r.db.QueryContext(ctx, `SELECT key, value FROM agent_meta`)
	if err != nil {
		return r.Classify(err)
	}
	defer rows.Close()
	var unread []string
	for rows.Next() {
		var key string
		var v any
		if err := rows.Scan(&key, &v); err != nil {
			return r.Classify(err)
		}
		if f := strictNote(key); f != nil && noteUnread(f, v) {
			unread = append(unread, key)
		}
	}
	if err := rows.Err(); err != nil {
		return r.Classify(err)
	}
	if len(unread) == 0 {
		return nil
	}
	sort.Strings(unread)
	return r.unreadNote(unread...)
}

// dropUnreadNotes takes out of what was salvaged the notes that do not
// read: a strict one taken over would have every command refuse the
// repaired file again, and an untold one would be read as none, its
// news lost without a word. The report says what was dropped. The
// damaged copy keeps them all.
func dropUnreadNotes(sv *salvaged, rep *RepairReport) {
	for k, v := range sv.meta {
		if f := strictNote(k); f != nil && noteUnread(f, v) {
			delete(sv.meta, k)
			if k != "enrollment" { // said by NotEnrolled
				rep.UnreadNotes = append(rep.UnreadNotes, k)
			}
			continue
		}
		if u, ok := untoldNotes[k]; ok && noteUnread(u.reads, v) {
			delete(sv.meta, k)
			rep.Untold = append(rep.Untold, u.what)
		}
	}
	for _, g := range noteGroups {
		for _, k := range g {
			if slices.Contains(rep.UnreadNotes, k) {
				for _, k := range g {
					delete(sv.meta, k)
				}
				break
			}
		}
	}
	sort.Strings(rep.UnreadNotes)
	sort.Slice(rep.Untold, func(i, j int) bool { return rep.Untold[i] < rep.Untold[j] })
}
