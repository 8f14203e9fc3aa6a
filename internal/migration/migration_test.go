package migration_test

import (
	"regexp"
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/migration"
)

func TestFromEmbed(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_second.sql": {Data: []byte("CREATE TABLE b (x);")},
		"m/0001_first.sql":  {Data: []byte("CREATE TABLE a (x);")},
		"m/README.md":       {Data: []byte("not a migration")},
	}
	migs, err := migration.FromEmbed(fsys, "m")
	require.NoError(t, err)
	require.Equal(t, []migration.Migration{
		{Version: 1, Name: "first", SQL: "CREATE TABLE a (x);"},
		{Version: 2, Name: "second", SQL: "CREATE TABLE b (x);"},
	}, migs)

	bad := []struct {
		name string
		fsys fstest.MapFS
		err  string
	}{
		{"short version", fstest.MapFS{"m/1_first.sql": {}}, "NNNN_name.sql"},
		{"uppercase name", fstest.MapFS{"m/0001_First.sql": {}}, "NNNN_name.sql"},
		{"duplicate version", fstest.MapFS{"m/0001_a.sql": {}, "m/0001_b.sql": {}}, "two files"},
		{"missing dir", fstest.MapFS{}, "read m"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := migration.FromEmbed(tt.fsys, "m")
			require.ErrorContains(t, err, tt.err)
		})
	}
}

// TestNamesAsTheExpressionsSaid: ValidName and fileName, loops since issue
// 20, accept exactly what their regular expressions did, and split a file's
// name as its groups did.
func TestNamesAsTheExpressionsSaid(t *testing.T) {
	nameRE := regexp.MustCompile(`^[a-z0-9_]+$`)
	fileRE := regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)
	for _, s := range []string{"", "agent", "schema_2", "_", "Agent", "a-b", "a b", "a\n", "é", "0001_init.sql", "0001_.sql", "001_init.sql",
		"00012_init.sql", "0001-init.sql", "0001_Init.sql", "0001_init.SQL", "0001_init.sql.bak", "0001_a.b.sql", "9999_z_9.sql", "٠001_a.sql",
		"0001_init.sqlx", "x0001_init.sql", "0001_init_.sql", "0001__.sql", ".sql", "0001_x.sql"} {
		require.Equal(t, nameRE.MatchString(s), migration.ValidName(s), "%q", s)
		v, name, ok := migration.FileName(s)
		m := fileRE.FindStringSubmatch(s)
		require.Equal(t, m != nil, ok, "%q", s)
		if m != nil {
			want, err := strconv.Atoi(m[1])
			require.NoError(t, err)
			require.Equal(t, want, v, "%q", s)
			require.Equal(t, m[2], name, "%q", s)
		}
	}
}
