package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A damaged replica (a failing disk, a copy cut short, a page overwritten)
// must not be written to: a write can spread the damage, and a push from
// it sends whatever the damaged pages now say. Once any operation meets
// SQLite's corruption codes, or a sync's check finds damage, a marker file
// beside the replica says so, and every later write transaction, in any
// process, refuses with a *FileError (ErrCorrupt) whose message says to run
// `hamlet-agent repair` (repair.go). Reads go on where the file allows.

// markerSuffix names the marker file beside a replica.
const markerSuffix = ".damaged"

func markerPath(path string) string { return path + markerSuffix }

// damageMark is the marker's content: what was found and when (SQLite's
// error text: page numbers and codes, never a record's values), and, once
// a repair has moved the damaged file aside, where it is.
type damageMark struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	Kept   string    `json:"kept,omitempty"`
}

func readMark(path string) (*damageMark, error) {
	b, err := os.ReadFile(markerPath(path))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m damageMark
	if json.Unmarshal(b, &m) != nil {
		// A marker cut short by a crash still marks the file damaged.
		m = damageMark{Reason: "unreadable marker"}
	}
	return &m, nil
}

func writeMark(path string, m *damageMark) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeFileSync(markerPath(path), b)
}

// markDamaged records that the replica at path is damaged, unless it is
// marked already. Writing the marker may fail (a full disk); the caller
// reports the damage all the same.
func markDamaged(path string, cause error) {
	if m, err := readMark(path); err != nil || m != nil {
		return
	}
	reason := "damaged"
	if cause != nil {
		reason = cause.Error()
	}
	_ = writeMark(path, &damageMark{At: time.Now().UTC(), Reason: reason})
}

// errMarkedDamaged is the detail of a refused write.
var errMarkedDamaged = errors.New("marked damaged; run hamlet-agent repair")

// writable refuses a write to a replica marked damaged, by this process
// or another one, or replaced by a repair (markCheck), saying the write
// was refused.
func (r *Replica) writable() error {
	err := r.markCheck()
	var fe *FileError
	if errors.As(err, &fe) {
		fe.Refused = true
	}
	return err
}

// ReplacedError: the replica file was replaced (by a repair) while this
// process had it open; what it would write now would go to the old file.
type ReplacedError struct {
	Path string
	// Watch: sync --watch stopped on it, after syncing for as long as it
	// ran, so "saved nothing" is false of it and "the command" is to be
	// named. The CLI sets it (as DiskFullError.Op).
	Watch bool
}

func (e *ReplacedError) Error() string {
	return fmt.Sprintf("agent: %s was replaced while open", e.Path)
}

func (e *ReplacedError) Message(lang string) string {
	if e.Watch {
		return pick(lang,
			"Tệp dữ liệu đã được thay (bằng lệnh hamlet-agent repair, hoặc bằng một bản sao lưu) trong lúc lệnh đồng bộ liên tục đang chạy, nên lệnh đã dừng để không ghi vào tệp cũ. Những gì lệnh đã đồng bộ trước đó vẫn an toàn trên máy chủ. Hãy chạy lại: hamlet-agent sync --watch",
			"The data file was replaced (by hamlet-agent repair, or by a restored backup) while sync --watch was running, so it stopped rather than write into the old file. What it synced before is safe on the server. Run it again: hamlet-agent sync --watch")
	}
	return pick(lang,
		"Tệp dữ liệu vừa được thay bằng bản đã sửa trong lúc lệnh này chạy, nên lệnh này chưa lưu gì. Hãy chạy lại lệnh.",
		"The data file was replaced by its repaired copy while this command ran, so this command saved nothing. Run the command again.")
}

// AppMessage: the app keeps the file it opened, so saving again cannot
// help; opening the app again does (AppMessager).
func (e *ReplacedError) AppMessage(lang string) string {
	return pick(lang,
		"Tệp dữ liệu đã được sửa (lệnh hamlet-agent repair) trong lúc Hamlet đang mở, nên lần này Hamlet chưa lưu gì và không đồng bộ được nữa. Hãy đóng Hamlet rồi mở lại, sau đó nhập lại; những gì đã lưu trước đó vẫn còn trong tệp đã sửa.",
		"The data file was repaired (hamlet-agent repair) while Hamlet was open, so Hamlet saved nothing this time and cannot sync any more. Close Hamlet and open it again, then enter it again; what was saved before is in the repaired file.")
}

// Damaged reports whether the replica is marked damaged, and what was found.
func (r *Replica) Damaged() (bool, string) {
	m, err := readMark(r.path)
	if err != nil || m == nil {
		return false, ""
	}
	return true, m.Reason
}

// errDamagedRecord wraps a stored record that does not decode (a row
// state, a change-log entry's row id): its bytes are not what this program
// wrote, so the file is damaged where SQLite cannot see it (a record's
// content, not the page's structure).
var errDamagedRecord = errors.New("stored record does not decode")

// Classify is the one place that sorts the errors of replica operations:
// SQLite's corruption codes and undecodable row states become a
// *FileError (ErrCorrupt) and mark the replica damaged; a full disk becomes
// a *DiskFullError. Anything else is returned as it is.
func (r *Replica) Classify(err error) error {
	if r.replacedDamage(err) {
		return &ReplacedError{Path: r.path}
	}
	return classifyStore(r.path, err)
}

// replacedDamage: err is damage this process met in the file it opened,
// and a repair has replaced that file since (the app left open while the
// volunteer ran hamlet-agent repair). The damage is the old file's: the
// marker written at the path would mark the repaired file damaged, every
// command would refuse it and repair say it is sound; and the volunteer,
// told to repair again, is to open the app again instead (ReplacedError).
func (r *Replica) replacedDamage(err error) bool {
	var fe *FileError
	if err == nil || !isCorrupt(err) && !(errors.As(err, &fe) && errors.Is(fe.Kind, ErrCorrupt)) {
		return false
	}
	return r.Replaced()
}

func classifyStore(path string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FileError
	if errors.As(err, &fe) {
		if errors.Is(fe.Kind, ErrCorrupt) {
			markDamaged(path, fe.Err)
		}
		return err
	}
	var df *DiskFullError
	var aw *ArchiveWriteError // another file's failure, told as such
	if errors.As(err, &df) || errors.As(err, &aw) {
		return err
	}
	switch {
	case isCorrupt(err):
		markDamaged(path, err)
		return &FileError{Path: path, Kind: ErrCorrupt, Err: err}
	case isDiskFull(err):
		return &DiskFullError{Path: path, Err: err}
	case isBusy(err):
		return &BusyError{Err: err}
	}
	return err
}

// isBusy: another process held the file past the busy timeout (10 s).
func isBusy(err error) bool {
	code, ok := sqliteCode(err)
	return ok && (code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED)
}

func sqliteCode(err error) (int, bool) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code(), true
	}
	return 0, false
}

// isCorrupt: SQLite found the file's structure damaged, or a row state's
// bytes are not ours.
func isCorrupt(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errDamagedRecord) {
		return true
	}
	if code, ok := sqliteCode(err); ok {
		switch code & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return true
		}
		return false
	}
	// Errors that lost their type on the way (a driver's text).
	s := err.Error()
	return strings.Contains(s, "database disk image is malformed") || strings.Contains(s, "file is not a database")
}

// isDiskFull: a write found no space. SQLite says SQLITE_FULL when a write
// of the database or its log gets ENOSPC; growing the shared-memory index
// of the log on a full disk gives SQLITE_IOERR_SHMSIZE; files the agent
// writes itself (the token, the marker) give ENOSPC or EDQUOT.
func isDiskFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var en syscall.Errno
	if runtime.GOOS == "windows" && errors.As(err, &en) && (en == 39 || en == 112) {
		return true // ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL
	}
	if code, ok := sqliteCode(err); ok {
		return code&0xff == sqlite3.SQLITE_FULL || code == sqlite3.SQLITE_IOERR_SHMSIZE
	}
	return strings.Contains(err.Error(), "database or disk is full")
}

// IsStoreError tells a failure of this laptop's files from one of the
// network, so a sync never blames the network for a full disk or a
// damaged file.
func IsStoreError(err error) bool {
	if err == nil {
		return false
	}
	var fe *FileError
	var df *DiskFullError
	var se *sqlite.Error
	var re *ReplacedError
	return errors.As(err, &fe) || errors.As(err, &df) || errors.As(err, &se) || errors.As(err, &re) || isCorrupt(err) || isDiskFull(err)
}

// NeedsPerson: the replica is damaged or its disk is full. Retrying does
// not help; the volunteer must repair it or free some space.
func NeedsPerson(err error) bool {
	var fe *FileError
	var df *DiskFullError
	var re *ReplacedError
	return errors.As(err, &fe) || errors.As(err, &df) || errors.As(err, &re)
}

// DamageCheck is the check at the start of every sync: the marker, then
// SQLite's quick_check, which reads every page of the file and checks its
// structure (not each index against its table: integrity_check does that,
// three times slower). On a commune's replica (20,000 households, 20,000
// tutoring records, 1,000 reports: 24.6 MB) it takes about 40 ms
// (BenchmarkDamageCheck), a fraction of a sync over 3G. Damage found marks
// the replica and returns a *FileError.
func (r *Replica) DamageCheck(ctx context.Context) error {
	if err := r.markCheck(); err != nil {
		return err
	}
	// main only: checking "temp" too would open the temporary database,
	// and a connection with it open cannot change temp_store inside a
	// transaction (restoreIndexes does).
	rows, err := r.db.QueryContext(ctx, `PRAGMA main.quick_check`)
	if err != nil {
		return r.Classify(err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return r.Classify(err)
		}
		if s != "ok" && len(problems) < 3 {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return r.Classify(err)
	}
	if len(problems) > 0 {
		err := fmt.Errorf("quick_check: %s", strings.Join(problems, "; "))
		markDamaged(r.path, err)
		return &FileError{Path: r.path, Kind: ErrCorrupt, Err: err}
	}
	return nil
}

// markCheck is DamageCheck without reading the file: a replica replaced
// by a repair since it was opened, or marked damaged.
//
// The replacement first: a marker beside a replaced file is the new
// file's (a repair puts its file in place, then removes its marker), and
// what helps this process is to open the file again, as replacedDamage
// tells too. Told the marker in between, the app's stopped sync said to
// run the repair just run for as long as it stayed open (helper 235).
func (r *Replica) markCheck() error {
	if r.Replaced() {
		return &ReplacedError{Path: r.path}
	}
	if _, err := os.Stat(markerPath(r.path)); err == nil {
		return &FileError{Path: r.path, Kind: ErrCorrupt, Err: errMarkedDamaged}
	}
	return nil
}

// Replaced reports whether the replica file at this replica's path is no
// longer the one it opened: a repair replaced it (ReplacedError). What
// this process reads is the old file's, and it writes nothing more.
func (r *Replica) Replaced() bool { return r.fileAtPath() == otherAtPath }

// pathState is what the replica's path names now.
type pathState int

const (
	samePath      pathState = iota // the file this process opened (or one it never noted)
	otherAtPath                    // another file: a repair replaced it
	nothingAtPath                  // nothing it can see: the folder was moved or the file deleted
)

// fileAtPath says what the replica's path names now, against the file this
// process opened.
func (r *Replica) fileAtPath() pathState {
	st, err := os.Stat(r.path)
	switch {
	case err != nil:
		return nothingAtPath
	case r.file != nil && !os.SameFile(st, r.file):
		return otherAtPath
	}
	return samePath
}

// writeFileSync writes a small file durably: to a temporary name, synced,
// then renamed over name.
func writeFileSync(name string, b []byte) error {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, name)
}
