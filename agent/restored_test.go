package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// replicaFile gives a replica file's path, a path beside it for a copy,
// and how to open the file.
func replicaFile(t *testing.T) (open func() *agent.Replica, path, backup string) {
	t.Helper()
	dir := t.TempDir()
	path, backup = filepath.Join(dir, "replica.db"), filepath.Join(dir, "backup.db")
	return func() *agent.Replica {
		r, err := agent.OpenWith(context.Background(), path, agent.Options{})
		require.NoError(t, err)
		return r
	}, path, backup
}

// openFile opens the replica file at path, closed when the test ends.
func openFile(t *testing.T, path string) *agent.Replica {
	t.Helper()
	r, err := agent.OpenWith(context.Background(), path, agent.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

// restoreFile copies a closed replica file (its WAL is checkpointed on close).
func restoreFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o600))
	for _, suf := range []string{"-wal", "-shm"} {
		os.Remove(to + suf)
	}
}

// A laptop restored from an older copy of its replica reuses sequence
// numbers the server already holds for the writes made after the copy.
// Its new writes must still reach the server (not be answered "duplicate"
// and dropped), and the replica must stay consistent.
func TestRestoredReplicaLosesNoNewWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	open, path, backup := replicaFile(t)
	hamlet := ts.HamletsA[0]

	a := open()
	tok, _, err := a.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	before, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Trước bản sao"})
	require.NoError(t, err)
	realSync(t, a, ts, tok)
	require.NoError(t, a.Close())
	restoreFile(t, path, backup)

	a = open()
	lost, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Sau bản sao"})
	require.NoError(t, err)
	realSync(t, a, ts, tok)
	require.NoError(t, a.Close())

	restoreFile(t, backup, path) // the disk is restored from the copy
	a = open()
	defer a.Close()
	after, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Sau khi khôi phục"})
	require.NoError(t, err)
	s := realSync(t, a, ts, tok)
	require.Zero(t, s.Rejected)
	left, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, left)
	require.NoError(t, a.Check(ctx))

	// The write the restore threw away comes back with a clone.
	_, err = a.Show(ctx, "households", lost.String())
	require.NoError(t, err, "the restored replica clones again and gets its lost write")
	_, err = a.Show(ctx, "households", after.String())
	require.NoError(t, err)

	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	for _, id := range []string{before.String(), lost.String(), after.String()} {
		_, err := b.Show(ctx, "households", id)
		require.NoError(t, err, "household %s on the teammate's replica (before %s, lost %s, after %s)", id, before, lost, after)
	}
	got, err := b.Show(ctx, "households", after.String())
	require.NoError(t, err)
	require.Equal(t, "Sau khi khôi phục", got.Fields["head_name"])
}

// A laptop holding one server's data is not enrolled with another server
// (another deployment): its sequences and cursor belong to the first, so
// it would be stuck. It is told what to do and nothing local changes.
func TestEnrollWithAnotherServerIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	one, two := servertest.Start(t), servertest.Start(t)
	a, tok := realAgent(t, one, one.TeamA)
	_, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": one.HamletsA[0], "head_name": "Hộ ở máy chủ một"})
	require.NoError(t, err)
	realSync(t, a, one, tok)
	before, err := a.Enrollment(ctx)
	require.NoError(t, err)

	_, _, err = a.Enroll(ctx, two.URL, two.EnrollCode(t, two.TeamA), "máy thử")
	var oe *agent.OtherServerError
	require.ErrorAs(t, err, &oe)
	require.Contains(t, oe.Message("vi"), "--data-dir")
	after, err := a.Enrollment(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after, "the enrollment is unchanged")
	realSync(t, a, one, tok) // and it still syncs with its own server

	// A replica that never synced nor wrote may move.
	fresh, _ := realAgent(t, one, one.TeamA)
	_, _, err = fresh.Enroll(ctx, two.URL, two.EnrollCode(t, two.TeamA), "máy thử")
	require.NoError(t, err)
}
