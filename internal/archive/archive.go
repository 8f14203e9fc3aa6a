package archive

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Conflict is one archived conflict-log entry.
type Conflict struct {
	// ID is the entry's id in the database it came from.
	ID    int64     `json:"id"`
	At    time.Time `json:"at"` // when the conflict was recorded
	Scope string    `json:"hamlet"`
	Table string    `json:"table"`
	Row   string    `json:"row"`
	Field string    `json:"field"`
	// Loser is the value that lost (the one a person may want back).
	Loser Version `json:"loser"`
	// Winner is the value that won; the server keeps only its version.
	Winner Version `json:"winner"`
	// RestoredAt is when a person restored the loser (agent only).
	RestoredAt *time.Time `json:"restored_at,omitempty"`
}

// Version is a field version in an archive.
type Version struct {
	Kind    string `json:"kind,omitempty"` // null, bool, int, float, string; empty: not kept
	Value   any    `json:"value,omitempty"`
	HLC     uint64 `json:"hlc"`
	Replica string `json:"replica"`
	Seq     uint64 `json:"seq"`
}

// KindName names a value kind for the archive.
func KindName(k syncproto.Kind) string {
	switch k {
	case syncproto.KindNull:
		return "null"
	case syncproto.KindBool:
		return "bool"
	case syncproto.KindInt:
		return "int"
	case syncproto.KindFloat:
		return "float"
	case syncproto.KindString:
		return "string"
	}
	return fmt.Sprintf("kind%d", k)
}

// VersionOf is the archive form of a version with its value.
func VersionOf(v syncproto.Version) Version {
	return Version{Kind: KindName(v.Value.Kind()), Value: v.Value.Any(), HLC: uint64(v.HLC), Replica: v.Dot.Replica.String(), Seq: v.Dot.Seq}
}

// ServerConflict is the archive form of a row of the server's conflict
// log (sync_conflicts, as both server stores keep it: times in Unix ms, ids
// as 16 bytes), which keeps the loser's value and only the winner's
// version.
func ServerConflict(id, atMs int64, scope, table string, row []byte, field string, loser syncproto.Value,
	lHLC int64, lOrigin []byte, lSeq, wHLC int64, wOrigin []byte, wSeq int64) Conflict {
	var r, lo, wo uuid.UUID
	copy(r[:], row)
	copy(lo[:], lOrigin)
	copy(wo[:], wOrigin)
	return Conflict{
		ID: id, At: time.UnixMilli(atMs).UTC(), Scope: scope, Table: table, Row: r.String(), Field: field,
		Loser:  Version{Kind: KindName(loser.Kind()), Value: loser.Any(), HLC: uint64(lHLC), Replica: lo.String(), Seq: uint64(lSeq)},
		Winner: Version{HLC: uint64(wHLC), Replica: wo.String(), Seq: uint64(wSeq)},
	}
}

// ErrExists means the output file exists already: an archive is never
// overwritten.
var ErrExists = errors.New("archive: the output file exists already")

// WriteFile writes the conflicts fill emits to path, durably (see the
// package doc), and returns how many it wrote. fill's error aborts the
// write and leaves no file; so does an empty archive.
func WriteFile(path string, fill func(emit func(Conflict) error) error) (n int, err error) {
	if _, err := os.Lstat(path); err == nil {
		return 0, fmt.Errorf("%s: %w", path, ErrExists)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("archive: create %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err = fill(func(c Conflict) error {
		n++
		return enc.Encode(c)
	}); err != nil {
		return 0, fmt.Errorf("archive: write %s: %w", path, err)
	}
	if n == 0 {
		f.Close()
		os.Remove(tmp)
		return 0, nil // nothing to archive: no file
	}
	if err = w.Flush(); err != nil {
		return 0, fmt.Errorf("archive: write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return 0, fmt.Errorf("archive: sync %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return 0, fmt.Errorf("archive: close %s: %w", path, err)
	}
	if _, serr := os.Lstat(path); serr == nil {
		err = fmt.Errorf("%s: %w", path, ErrExists)
		return 0, err
	}
	if err = os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("archive: %w", err)
	}
	// Windows cannot flush a folder opened for reading (access denied,
	// every time): there the renamed file's own flush above is what holds.
	if d, derr := os.Open(dir); derr == nil && runtime.GOOS != "windows" {
		serr := d.Sync()
		d.Close()
		if serr != nil {
			return n, fmt.Errorf("archive: sync directory %s: %w", dir, serr)
		}
	}
	return n, nil
}

// Read reads an archive back (for checks and for restoring by hand).
func Read(path string) ([]Conflict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Conflict
	dec := json.NewDecoder(f)
	for dec.More() {
		var c Conflict
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("archive %s: entry %d: %w", path, len(out)+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseAge reads an age for --older-than and similar flags: a number of
// days ("90d") or a Go duration ("36h"); it refuses a negative age. Its
// errors are *AgeError, which says in either language how to write one.
func ParseAge(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, &AgeError{Input: s}
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, &AgeError{Input: s}
		}
	}
	if d < 0 {
		return 0, &AgeError{Input: s, Negative: true}
	}
	return d, nil
}

// AgeError is an age ParseAge cannot read.
type AgeError struct {
	Input    string
	Negative bool
}

func (e *AgeError) Error() string {
	return e.Message("vi") + " / " + e.Message("en")
}

// Message says how to write an age, in lang ("en" or Vietnamese).
func (e *AgeError) Message(lang string) string {
	en := strings.HasPrefix(lang, "en")
	switch {
	case e.Negative && en:
		return fmt.Sprintf("%q: must not be negative", e.Input)
	case e.Negative:
		return fmt.Sprintf("%q: thời gian không được âm", e.Input)
	case en:
		return fmt.Sprintf("%q: write days as 90d, or a duration as 36h", e.Input)
	}
	return fmt.Sprintf("%q: viết số ngày như 90d, hoặc thời lượng như 36h", e.Input)
}
