package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Repair rebuilds a damaged replica (damage.go) in place:
//
//  1. the damaged file (and its write-ahead log) is moved aside under a
//     timestamped name and kept as it was, for IT staff;
//  2. every row state, change-log entry, conflict and setting that can
//     still be read is read from a scratch copy of it, table by table in
//     key ranges, skipping the ranges SQLite cannot read;
//  3. a fresh replica with the same replica id and sequence counter
//     receives them; pending changes whose log entry was lost are rebuilt
//     from the row versions that carry them, and rows lost with their
//     pending changes from those changes;
//  4. it takes the replica's name, and the marker goes.
//
// The fresh replica is set to clone its scope again at its next sync
// (after pushing), which brings back from the server every synced row the
// damage took, and to close, once the server says what it holds, any gap
// the lost log entries left in its sequence (closeRepairGaps).
//
// A repair cut short resumes: the marker remembers where the damaged file
// went, and Open refuses to create a new replica meanwhile.
func Repair(ctx context.Context, path string, opts Options) (*RepairReport, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	mark, err := readMark(path)
	if err != nil {
		return nil, err
	}
	if mark == nil {
		if _, err := os.Stat(path); err != nil {
			return nil, ErrNotDamaged
		}
		if err := checkBeforeRepair(ctx, path, opts); err != nil {
			return nil, err
		}
		if mark, err = readMark(path); err != nil {
			return nil, err
		}
		if mark == nil { // the marker could not be written (a full disk)
			mark = &damageMark{At: opts.Now().UTC(), Reason: "damaged"}
		}
	}
	if mark.Kept != "" && exists(mark.Kept) && exists(path) {
		// The damaged file was moved aside and a file took its name
		// again: only the repair's own replica does (Open creates none
		// while the marker is there). A repair that stopped before
		// removing the marker: it is done.
		return &RepairReport{Kept: mark.Kept, Done: true}, removeMark(path)
	}
	if mark.Kept == "" {
		// A name no earlier repair used (two may fall in one second).
		base := fmt.Sprintf("%s.damaged-%s", path, opts.Now().Format("20060102-150405"))
		mark.Kept = base
		for n := 2; exists(mark.Kept) || exists(mark.Kept+"-wal"); n++ {
			mark.Kept = fmt.Sprintf("%s-%d", base, n)
		}
		if err := writeMark(path, mark); err != nil {
			if isDiskFull(err) {
				return nil, classifyStore(path, err) // its own advice: free some space
			}
			// A folder where the file cannot be renamed is one where the
			// marker cannot be either: the same step failed.
			return nil, &MoveAsideError{Path: path, Err: fmt.Errorf("note where the damaged file goes: %w", err)}
		}
	}
	kept := mark.Kept
	// Move the damaged file and its log aside together (the log holds
	// commits not yet copied into the file); the shared-memory index is
	// rebuilt from them.
	for _, suffix := range []string{"", "-wal"} {
		if exists(path+suffix) && !exists(kept+suffix) {
			if err := os.Rename(path+suffix, kept+suffix); err != nil {
				return nil, &MoveAsideError{Path: path, Err: fmt.Errorf("keep the damaged file: %w", err)}
			}
		}
	}
	if err := removeIfExists(path + "-shm"); err != nil {
		return nil, err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}

	rep := &RepairReport{Kept: kept, Unreadable: map[string]int{}, Rows: map[string]int{}}
	sv := &salvaged{meta: map[string]any{}, unreadable: rep.Unreadable}
	if exists(kept) {
		// Read a scratch copy: SQLite would write its log into the file
		// it opens, and the kept one stays as it was.
		scratch := path + ".salvage"
		defer removeDB(scratch)
		if err := removeDB(scratch); err != nil {
			return nil, err
		}
		for _, suffix := range []string{"", "-wal"} {
			if exists(kept + suffix) {
				if err := copyFile(kept+suffix, scratch+suffix); err != nil {
					return nil, classifyStore(path, fmt.Errorf("copy the damaged file: %w", err))
				}
			}
		}
		if err := sv.read(ctx, scratch); err != nil {
			return nil, err
		}
		if len(sv.unreadable) > 0 {
			// Some of it SQLite could not read: read the kept file page
			// by page for the rows it missed (rawsalvage.go).
			raw, err := rawRecords(kept)
			if err != nil {
				return nil, err
			}
			cols, err := rowTableColumns(ctx, opts.Schema)
			if err != nil {
				return nil, err
			}
			sv.merge(raw, cols)
		}
	} else {
		rep.Unreadable["file"]++
	}

	fresh := path + ".repair"
	if err := removeDB(fresh); err != nil {
		return nil, err
	}
	if err := buildRepaired(ctx, fresh, sv, opts, rep); err != nil {
		removeDB(fresh)
		return nil, classifyStore(fresh, err)
	}
	if err := os.Rename(fresh, path); err != nil {
		return nil, fmt.Errorf("put the repaired replica in place: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return rep, removeMark(path)
}

// ErrNotDamaged: Repair found nothing to repair.
var ErrNotDamaged = errors.New("agent: the replica is not damaged")

// MoveAsideError: a repair could not move the damaged file aside, its
// first step, so it stopped there: no data was changed (a file moved
// before its log failed is where the marker says, and the next repair
// goes on from there). On Windows the SQLite driver opens the file
// without FILE_SHARE_DELETE, so while the app or another hamlet-agent
// command has it open it cannot be renamed: the OS error alone told the
// volunteer neither that nor that closing them helps.
type MoveAsideError struct {
	Path string // the replica
	Err  error
}

func (e *MoveAsideError) Error() string {
	return fmt.Sprintf("agent: move the damaged replica %s aside: %v", e.Path, e.Err)
}
func (e *MoveAsideError) Unwrap() error { return e.Err }

func (e *MoveAsideError) Message(lang string) string {
	return pick(lang,
		fmt.Sprintf("Chưa sửa được tệp dữ liệu: Hamlet không chuyển được tệp hỏng %s sang chỗ cất giữ (bước đầu của việc sửa), thường vì ứng dụng Hamlet hoặc một lệnh hamlet-agent khác đang mở tệp này. Không có dữ liệu nào bị thay đổi hay mất. Hãy đóng ứng dụng Hamlet (cửa sổ đang chạy Hamlet) và mọi cửa sổ khác đang chạy hamlet-agent, rồi chạy lại: hamlet-agent repair. Nếu vẫn không được, hãy báo cán bộ CNTT (chi tiết cho cán bộ CNTT: %v).", e.Path, e.Err),
		fmt.Sprintf("The data file was not repaired: Hamlet could not move the damaged file %s aside (the repair's first step), usually because the Hamlet app or another hamlet-agent command has it open. No data was changed or lost. Close the Hamlet app (the window Hamlet runs in) and every other window running hamlet-agent, then run again: hamlet-agent repair. If it fails again, tell IT staff (detail for IT staff: %v).", e.Path, e.Err))
}

// checkBeforeRepair opens an unmarked replica and checks it: a damaged one
// is marked (by Open or DamageCheck) and repaired; a sound one is left.
func checkBeforeRepair(ctx context.Context, path string, opts Options) error {
	r, err := OpenWith(ctx, path, opts)
	if err == nil {
		err = r.DamageCheck(ctx)
		if err == nil {
			// What quick_check cannot see and the other commands
			// refuse the file for: they and repair agree.
			err = r.NotesCheck(ctx)
		}
		r.Close()
		if err == nil {
			return ErrNotDamaged
		}
	}
	if errors.Is(err, ErrCorrupt) {
		return nil
	}
	return err
}

// RepairReport is what a repair saved and what it could not.
type RepairReport struct {
	// Kept is the damaged file, as it was.
	Kept string `json:"kept"`
	// Done: an earlier repair had finished all but removing its marker.
	Done bool `json:"done,omitempty"`
	// Rows counts the rows read, by table.
	Rows map[string]int `json:"rows"`
	// Pending is the changes not yet acknowledged by the server that were
	// saved: read from the change log, or rebuilt from the row versions
	// that carry them (Rebuilt of them).
	Pending int `json:"pending"`
	Rebuilt int `json:"rebuilt"`
	// RowsFromChanges is rows whose state was lost, rebuilt from their
	// pending changes.
	RowsFromChanges int `json:"rows_from_changes"`
	// Rejected is the refused changes kept for `rejected`; Conflicts the
	// conflict log entries kept.
	Rejected  int `json:"rejected"`
	Conflicts int `json:"conflicts"`
	// Unreadable counts, by table, the parts of the file that could not be
	// read ("file": the damaged file itself was gone).
	Unreadable map[string]int `json:"unreadable,omitempty"`
	// Undecodable is rows whose bytes were readable but not a row state.
	Undecodable int `json:"undecodable,omitempty"`
	// LostPending is changes never sent whose content could not be read
	// anywhere: made on this laptop, on no other copy.
	LostPending int `json:"lost_pending"`
	// LostUnknown: the sequence counter was unreadable (the settings, or
	// the file's schema, were in the damaged part), so whether unsent
	// changes were lost cannot be told.
	LostUnknown bool `json:"lost_pending_unknown,omitempty"`
	// NewReplicaID: the replica id was unreadable; the replica got a new
	// one and this laptop must be enrolled again.
	NewReplicaID bool `json:"new_replica_id,omitempty"`
	// NotEnrolled: the enrollment was unreadable (or there was none).
	NotEnrolled bool `json:"not_enrolled,omitempty"`
	// UnreadNotes are the notes other than the enrollment left out
	// because they did not read: the lists of the team's hamlets held
	// (set again as the repaired replica clones), the replica ids this
	// data folder had before a fork.
	UnreadNotes []string `json:"unread_notes,omitempty"`
	// Untold is what a sync had still to tell the volunteer and could
	// not be read: it is left out, and the volunteer told what it was
	// about (the damaged copy keeps it).
	Untold []UntoldNote `json:"untold_lost,omitempty"`
}

// Lost reports whether anything made only on this laptop is gone.
func (rep *RepairReport) Lost() bool { return rep.LostPending > 0 || rep.LostUnknown }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// removeDB removes a SQLite file with its log and index.
func removeDB(path string) error {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := removeIfExists(path + suffix); err != nil {
			return err
		}
	}
	return nil
}

func removeMark(path string) error {
	if err := removeIfExists(markerPath(path)); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
