package migration_test

import (
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
