package agent

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The enrollment is decoded once per stored text: each caller still gets
// a copy of its own, and a text another process writes (the CLI, on its
// own connection) is read and decoded afresh.
func TestEnrollmentDecodedOncePerText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "replica.db")
	r, err := Open(ctx, path)
	require.NoError(t, err)
	defer r.Close()
	none, err := r.Enrollment(ctx)
	require.NoError(t, err)
	require.Nil(t, none, "never enrolled")

	require.NoError(t, r.SetEnrollment(ctx, &Enrollment{Server: "http://127.0.0.1:1", MemberID: "m1",
		Scope: []Hamlet{{Code: "32002-01", Name: "Ấp 1"}}}))
	first, err := r.Enrollment(ctx)
	require.NoError(t, err)
	require.Equal(t, []Hamlet{{Code: "32002-01", Name: "Ấp 1"}}, first.Scope)
	// A caller's changes to its copy reach no one else.
	first.Scope[0].Name = "changed"
	first.Scope = append(first.Scope, Hamlet{Code: "32002-09"})
	first.MemberID = "changed"
	again, err := r.Enrollment(ctx)
	require.NoError(t, err)
	require.Equal(t, &Enrollment{Server: "http://127.0.0.1:1", MemberID: "m1", Scope: []Hamlet{{Code: "32002-01", Name: "Ấp 1"}}}, again)

	// Another connection (another process) writes another enrollment.
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	defer other.Close()
	_, err = other.ExecContext(ctx, `UPDATE agent_meta SET value = ? WHERE key = 'enrollment'`,
		`{"server":"http://127.0.0.1:2","device_id":"","member_id":"m2","team_id":"","team_name":"","scope":[{"code":"32002-02","name":"Ấp 2"}],"server_id":"","schema":0}`)
	require.NoError(t, err)
	seen, err := r.Enrollment(ctx)
	require.NoError(t, err)
	require.Equal(t, &Enrollment{Server: "http://127.0.0.1:2", MemberID: "m2", Scope: []Hamlet{{Code: "32002-02", Name: "Ấp 2"}}}, seen)
}
