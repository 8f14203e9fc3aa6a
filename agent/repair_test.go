package agent_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// A process that had the replica open when it was repaired (sync --watch,
// say) must not go on writing into the old file, which no longer has the
// replica's name: its writes would be lost. It refuses and says to run the
// command again; the repaired replica keeps the id and what was written.
func TestRepairedReplicaIsNotWrittenThroughAnOldHandle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "replica.db")
	old, err := agent.Open(ctx, path)
	require.NoError(t, err)
	defer old.Close()
	require.NoError(t, old.SetEnrollment(ctx, &agent.Enrollment{Server: "http://127.0.0.1:1", MemberID: "m"}))
	kept := addHousehold(t, old, "Trần Văn Giữ")
	pending, err := old.Pending(ctx)
	require.NoError(t, err)

	// Another process finds damage (here: marked by hand as Classify does)
	// and repairs.
	require.NoError(t, os.WriteFile(path+".damaged", []byte(`{"reason":"test"}`), 0o600))
	_, err = old.AddHousehold(ctx, agent.Fields{"hamlet_code": hamletA, "head_name": "Không lưu"})
	var fe *agent.FileError
	require.ErrorAs(t, err, &fe, "marked damaged: writes refused")
	require.True(t, fe.Refused)
	rep, err := agent.Repair(ctx, path, agent.Options{})
	require.NoError(t, err)
	require.False(t, rep.Lost(), "%+v", rep)
	require.Equal(t, pending, rep.Pending, "every change of the household")

	_, err = old.AddHousehold(ctx, agent.Fields{"hamlet_code": hamletA, "head_name": "Không lưu"})
	var re *agent.ReplacedError
	require.True(t, errors.As(err, &re), "%v", err)
	require.Contains(t, re.Message("vi"), "Hãy chạy lại lệnh")

	fresh, err := agent.Open(ctx, path)
	require.NoError(t, err)
	defer fresh.Close()
	require.Equal(t, old.ID(), fresh.ID(), "the same replica id")
	_, err = fresh.Show(ctx, "households", kept.String())
	require.NoError(t, err)
	n, err := fresh.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, pending, n)
}

// A repair puts its file in the replica's place and then removes its
// marker: a write of a process whose file was replaced, in between, is
// told to open the file again, as markCheck tells its sync; told the
// marker, the volunteer would run the repair just run.
func TestWriteToAReplacedFileBesideItsMarkerSaysOpenAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "replica.db")
	old, err := agent.Open(ctx, path)
	require.NoError(t, err)
	defer old.Close()
	require.NoError(t, old.SetEnrollment(ctx, &agent.Enrollment{Server: "http://127.0.0.1:1", MemberID: "m"}))
	addHousehold(t, old, "Trần Văn Giữ")
	require.NoError(t, os.WriteFile(path+".damaged", []byte(`{"reason":"test"}`), 0o600))
	_, err = agent.Repair(ctx, path, agent.Options{})
	require.NoError(t, err)
	// The repair's file in place, its marker not yet removed.
	require.NoError(t, os.WriteFile(path+".damaged", []byte(`{"reason":"test"}`), 0o600))

	_, err = old.AddHousehold(ctx, agent.Fields{"hamlet_code": hamletA, "head_name": "Không lưu"})
	var re *agent.ReplacedError
	require.True(t, errors.As(err, &re), "%v", err)
}
