package agent

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCarriedVersionsReadEveryPart: the versions a rescope or a clone
// noted are read from the key an agent before the parts wrote and from
// each part after it, a later note of a field over an earlier one; the
// complete pull that forgets them forgets every part.
func TestCarriedVersionsReadEveryPart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := Open(ctx, filepath.Join(t.TempDir(), "replica.db"))
	require.NoError(t, err)
	defer r.Close()
	write := func(key, value string) {
		require.NoError(t, setMeta(ctx, r.writer(), key, value))
	}
	write(metaCarried, `{"r1/phone":"a/1","r2/phone":"a/2"}`)
	write(carriedPartsFrom+"000000000", `{"r2/phone":"b/5","r3/notes":"a/3"}`)
	write(carriedPartsFrom+"000000001", `{"r3/notes":"c/7"}`)
	write("carried_rowsx", `not a part`)
	got, err := r.carriedVersions(ctx, r.db)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"r1/phone": "a/1", "r2/phone": "b/5", "r3/notes": "c/7"}, got)

	_, err = r.afterPull(ctx, 10, 0, 10)
	require.NoError(t, err)
	got, err = r.carriedVersions(ctx, r.db)
	require.NoError(t, err)
	require.Empty(t, got)
	v, err := r.meta(ctx, r.db, "carried_rowsx")
	require.NoError(t, err)
	require.Equal(t, "not a part", v)
}
