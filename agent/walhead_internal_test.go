package agent

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWALHead: walHead tells a log that holds a frame, by its salts, from
// one that holds none (none there, cut short, its header alone).
func TestWALHead(t *testing.T) {
	t.Parallel()
	header := make([]byte, walHeader)
	binary.BigEndian.PutUint64(header[16:24], 0x0102030405060708)
	for _, tc := range []struct {
		name  string
		wal   []byte // nil: no -wal file
		dir   bool   // the -wal a folder: unreadable
		empty bool
		salt  int64
	}{
		{name: "no log", empty: true},
		{name: "cut to nothing", wal: []byte{}, empty: true},
		{name: "cut short", wal: header[:10], empty: true},
		{name: "its header alone", wal: header, empty: true},
		{name: "a frame", wal: append(append([]byte{}, header...), make([]byte, 24+4096)...), salt: 0x0102030405060708},
		{name: "one byte past the header", wal: append(append([]byte{}, header...), 0), salt: 0x0102030405060708},
		// Unreadable: not empty (a base raised on it would take the file
		// for holding every transaction), its salts unknown.
		{name: "unreadable", dir: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "replica.db")
			if tc.dir {
				require.NoError(t, os.Mkdir(path+"-wal", 0o755))
			}
			if tc.wal != nil {
				require.NoError(t, os.WriteFile(path+"-wal", tc.wal, 0o644))
			}
			empty, salt := walHead(path)
			require.Equal(t, tc.empty, empty)
			require.Equal(t, tc.salt, salt)
		})
	}
}
