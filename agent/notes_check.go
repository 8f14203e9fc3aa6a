package agent

import (
	"context"
	"encoding/json"
	"fmt"
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
	err = fmt.Errorf("%w: agent_meta %s", errDamagedRecord, strings.Join(unread, ", "))
	markDamaged(r.path, err)
	return &FileError{Path: r.path, Kind: ErrCorrupt, Err: err}
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
	sort.Strings(rep.UnreadNotes)
	sort.Slice(rep.Untold, func(i, j int) bool { return rep.Untold[i] < rep.Untold[j] })
}
