package migration

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Migration is one step of a set. Version numbers start at 1 and have no gaps.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// ValidName reports whether s may name a set or a migration: one or more
// of [a-z0-9_]. Names go into SQL text as literals (see ensureTable), so
// they are held to a charset that cannot break out of a quoted string.
// (A loop, not a regular expression compiled at every start of a
// command: package inits run before main, issue 20.)
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// CheckSet reports whether migs is a usable set: versions 1..n with no gaps or
// duplicates (in any order), every name in [a-z0-9_]+, no empty SQL.
func CheckSet(set string, migs []Migration) error {
	if !ValidName(set) {
		return fmt.Errorf("migration: set name %q must match [a-z0-9_]+", set)
	}
	sorted := SortedCopy(migs)
	for i, m := range sorted {
		switch {
		case i > 0 && m.Version == sorted[i-1].Version:
			return fmt.Errorf("migration: set %q: version %d appears twice (%q and %q)", set, m.Version, sorted[i-1].Name, m.Name)
		case m.Version != i+1:
			return fmt.Errorf("migration: set %q: expected version %d, found %d; versions must run 1, 2, 3... without gaps", set, i+1, m.Version)
		case !ValidName(m.Name):
			return fmt.Errorf("migration: set %q: version %d: name %q must match [a-z0-9_]+", set, m.Version, m.Name)
		case m.SQL == "":
			return fmt.Errorf("migration: set %q: version %d (%s) has no SQL", set, m.Version, m.Name)
		}
	}
	return nil
}

// SortedCopy returns migs by version, leaving migs as it is.
func SortedCopy(migs []Migration) []Migration {
	s := append([]Migration(nil), migs...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Version < s[j].Version })
	return s
}

// fileName splits a migration file's name, NNNN_name.sql (four digits,
// then a valid name), into its version and name; ok is false for any
// other name.
func fileName(s string) (version int, name string, ok bool) {
	if len(s) < len("0000_x.sql") || s[4] != '_' || !strings.HasSuffix(s, ".sql") {
		return 0, "", false
	}
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, "", false
		}
		version = version*10 + int(s[i]-'0')
	}
	name = s[5 : len(s)-len(".sql")]
	if !ValidName(name) {
		return 0, "", false
	}
	return version, name, true
}

// FromEmbed reads the migrations in dir of fsys, one file per version named
// NNNN_name.sql. Other files (a README) are ignored, but a .sql file with a
// malformed name is an error, since silently skipping it would skip a step.
func FromEmbed(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migration: read %s: %w", dir, err)
	}
	var migs []Migration
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		v, name, ok := fileName(e.Name())
		if !ok {
			return nil, fmt.Errorf("migration: %s/%s: name must be NNNN_name.sql (four digits, lowercase name)", dir, e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migration: %w", err)
		}
		migs = append(migs, Migration{Version: v, Name: name, SQL: string(body)})
	}
	migs = SortedCopy(migs)
	for i := 1; i < len(migs); i++ {
		if migs[i].Version == migs[i-1].Version {
			return nil, fmt.Errorf("migration: %s: two files have version %04d", dir, migs[i].Version)
		}
	}
	return migs, nil
}
