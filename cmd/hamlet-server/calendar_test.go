package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// The operator loads a year's official schedule of days off into the
// store the server uses, SQLite in the data directory or PostgreSQL
// (--db), and sees which years follow one.
func TestCalendarImport(t *testing.T) {
	fixture := filepath.Join("..", "..", "workcal", "official", "vn-2025.csv")
	for _, store := range []struct {
		name string
		db   func(t *testing.T) []string
	}{
		{"sqlite", func(*testing.T) []string { return nil }},
		{"postgres", func(t *testing.T) []string { return []string{"--db", pgtest.MigratedDB(t, pgstore.Migrate)} }},
	} {
		t.Run(store.name, func(t *testing.T) {
			dir := t.TempDir()
			db := store.db(t)
			run := func(args ...string) (int, string, string) { return cli(t, dir, append(args, db...)...) }

			partial := filepath.Join(t.TempDir(), "tet-2027.csv")
			require.NoError(t, os.WriteFile(partial, []byte("# only Tết\ndate,kind,name_vi,name_en\n2027-02-06,holiday,Tết Nguyên đán (mùng 1),Lunar New Year\n"), 0o600))
			code, _, errOut := run("calendar", "import", partial)
			require.Equal(t, 1, code)
			require.Contains(t, errOut, "lịch năm 2027 thiếu ngày lễ 2027-01-01 (Tết Dương lịch)")
			code, _, errOut = run("calendar", "import", "--lang", "en", partial)
			require.Equal(t, 1, code)
			require.Contains(t, errOut, "the 2027 schedule lacks the holiday 2027-01-01")
			code, _, errOut = run("calendar", "import")
			require.Equal(t, 1, code)
			require.Contains(t, errOut, "cách dùng: hamlet-server calendar import TỆP.csv")

			code, out, errOut := run("calendar", "import", fixture)
			require.Zero(t, code, errOut)
			require.Contains(t, out, "Đã nạp lịch nghỉ chính thức năm 2025 (12 ngày nghỉ, 1 ngày làm bù)")

			code, out, errOut = run("calendar", "list", "--json")
			require.Zero(t, code, errOut)
			var years []server.HolidayYear
			require.NoError(t, json.Unmarshal([]byte(out), &years), out)
			imported := map[int]bool{}
			for _, y := range years {
				imported[y.Year] = y.Imported != nil
			}
			require.Equal(t, map[int]bool{2024: false, 2025: true, 2026: false}, imported, "2025 from the store, the others built in")
			code, out, errOut = run("calendar", "list", "--lang", "en")
			require.Zero(t, code, errOut)
			require.Contains(t, out, "Other years: holidays computed from the Labour Code")

			code, out, errOut = run("calendar", "show", "2027")
			require.Zero(t, code, errOut)
			require.Contains(t, out, "Năm 2027 chưa có lịch nghỉ chính thức")
			require.Contains(t, out, "10/02/2027  Thứ Tư    Nghỉ bù       Nghỉ bù Tết Nguyên đán")

			if db != nil {
				_, err := os.Stat(filepath.Join(dir, sqlitestore.DBFile))
				require.ErrorIs(t, err, os.ErrNotExist, "--db writes nothing to SQLite")
			}
		})
	}
}

// A deployment moving from SQLite to PostgreSQL keeps the schedules its
// operator imported.
func TestCalendarSurvivesMigrateStore(t *testing.T) {
	url := pgtest.FreshDB(t)
	dir := t.TempDir()
	code, _, errOut := cli(t, dir, "calendar", "import", filepath.Join("..", "..", "workcal", "official", "vn-2025.csv"))
	require.Zero(t, code, errOut)
	code, _, errOut = cli(t, dir, "migrate-store", "--to", url)
	require.Zero(t, code, errOut)
	code, out, errOut := cli(t, t.TempDir(), "calendar", "show", "2025", "--json", "--db", url)
	require.Zero(t, code, errOut)
	var show struct {
		Computed bool
		Days     []struct{ Date, Kind string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &show), out)
	require.False(t, show.Computed)
	require.Len(t, show.Days, 13)
	code, out, errOut = cli(t, t.TempDir(), "calendar", "list", "--json", "--db", url)
	require.Zero(t, code, errOut)
	var years []server.HolidayYear
	require.NoError(t, json.Unmarshal([]byte(out), &years), out)
	for _, y := range years {
		require.Equal(t, y.Year == 2025, y.Imported != nil, "%d", y.Year)
	}
}
