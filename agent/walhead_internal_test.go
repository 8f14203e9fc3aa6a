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
		empty bool
		salt  int64
	}{
		{"no log", nil, true, 0},
		{"cut to nothing", []byte{}, true, 0},
		{"cut short", header[:10], true, 0},
		{"its header alone", header, true, 0},
		{"a frame", append(append([]byte{}, header...), make([]byte, 24+4096)...), false, 0x0102030405060708},
		{"one byte past the header", append(append([]byte{}, header...), 0), false, 0x0102030405060708},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "replica.db")
			if tc.wal != nil {
				require.NoError(t, os.WriteFile(path+"-wal", tc.wal, 0o644))
			}
			empty, salt := walHead(path)
			require.Equal(t, tc.empty, empty)
			require.Equal(t, tc.salt, salt)
		})
	}
}
