package migration

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
)

// Migration is one step of a set. Version numbers start at 1 and have no gaps.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Names go into SQL text as literals (see ensureTable), so they are held to a
// charset that cannot break out of a quoted string.
var nameRE = regexp.MustCompile(`^[a-z0-9_]+$`)

// ValidName reports whether s may name a set or a migration.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// CheckSet reports whether migs is a usable set: versions 1..n with no gaps or
// duplicates (in any order), every name in [a-z0-9_]+, no empty SQL.
func CheckSet(set string, migs []Migration) error {
	if !nameRE.MatchString(set) {
		return fmt.Errorf("migration: set name %q must match [a-z0-9_]+", set)
	}
	sorted := SortedCopy(migs)
	for i, m := range sorted {
		switch {
		case i > 0 && m.Version == sorted[i-1].Version:
			return fmt.Errorf("migration: set %q: version %d appears twice (%q and %q)", set, m.Version, sorted[i-1].Name, m.Name)
		case m.Version != i+1:
			return fmt.Errorf("migration: set %q: expected version %d, found %d; versions must run 1, 2, 3... without gaps", set, i+1, m.Version)
		case !nameRE.MatchString(m.Name):
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

var fileRE = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

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
		m := fileRE.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration: %s/%s: name must be NNNN_name.sql (four digits, lowercase name)", dir, e.Name())
		}
		v, _ := strconv.Atoi(m[1]) // four digits by the regexp
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migration: %w", err)
		}
		migs = append(migs, Migration{Version: v, Name: m[2], SQL: string(body)})
	}
	migs = SortedCopy(migs)
	for i := 1; i < len(migs); i++ {
		if migs[i].Version == migs[i-1].Version {
			return nil, fmt.Errorf("migration: %s: two files have version %04d", dir, migs[i].Version)
		}
	}
	return migs, nil
}
