package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// An enrollment names each hamlet of the team's scope, a hamlet that a
// reorganisation gave to another commune after the team took it included.
func TestEnrollmentNamesHamletMovedToAnotherCommune(t *testing.T) {
	ts := servertest.Start(t)
	ctx := context.Background()
	// A reorganisation gives one of team A's hamlets to commune B (the
	// store's step of it), and a units import renames it.
	re, ok := ts.Store.(interface {
		ReparentHamlets(context.Context, map[string]string) error
	})
	require.True(t, ok)
	require.NoError(t, re.ReparentHamlets(ctx, map[string]string{ts.HamletsA[1]: servertest.CommuneB}))
	units, err := ts.Admin.Units(ctx, schema.LevelHamlet, servertest.CommuneB)
	require.NoError(t, err)
	var moved schema.AdminUnit
	for _, u := range units {
		if u.Code == ts.HamletsA[1] {
			moved = u
		}
	}
	require.NotEmpty(t, moved.Code, "now a hamlet of commune B")
	moved.Name = "Ấp Mới Chuyển"
	require.NoError(t, ts.Admin.ImportUnits(ctx, []schema.AdminUnit{moved}))

	m, err := ts.Admin.AddMember(ctx, ts.TeamA, "Phạm Văn E", "member", "")
	require.NoError(t, err)
	code, _, err := ts.Admin.IssueCode(ctx, m.ID, time.Hour)
	require.NoError(t, err)
	er, status, eb, err := servertest.Enroll(ctx, ts.URL, code, uuid.New(), "Laptop")
	require.NoError(t, err)
	require.Equal(t, 200, status, "%+v", eb)
	require.Len(t, er.Scope, 2)
	require.Equal(t, ts.HamletsA[0], er.Scope[0].Code)
	require.Equal(t, "Khóm 1", er.Scope[0].Name)
	require.Equal(t, ts.HamletsA[1], er.Scope[1].Code)
	require.Equal(t, "Ấp Mới Chuyển", er.Scope[1].Name, "a hamlet now of another commune")
}
