package pgstore_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A hamlet moved by a reorganisation keeps its code: on either store, it
// is its new commune's for a team (and not its old one's), renaming it
// keeps it there, and adding hamlets to its old commune does not pull it
// back. Without the fix a team of the new commune was refused it (schema
// checked the code's prefix) and the upsert moved it back.
func TestMovedHamletStaysWithItsNewCommuneOnBothStores(t *testing.T) {
	for store, ts := range bothStores(t) {
		a := ts.Admin
		moved := schema.HamletCode(servertest.CommuneA, 4) // in no team
		_, err := a.ApplyReorganisation(ctx, schema.EmbeddedUnits2025(), map[string]string{moved: servertest.CommuneB})
		require.NoError(t, err, store)
		parent := func() string {
			hs, err := a.Units(ctx, schema.LevelHamlet, servertest.CommuneB)
			require.NoError(t, err, store)
			for _, h := range hs {
				if h.Code == moved {
					return h.ParentCode
				}
			}
			return ""
		}
		require.Equal(t, servertest.CommuneB, parent(), store)

		_, err = a.CreateTeam(ctx, servertest.CommuneB, "Tổ ấp chuyển về", []string{moved})
		require.NoError(t, err, "%s: a team of the new commune covers the moved hamlet", store)
		_, err = a.CreateTeam(ctx, servertest.CommuneA, "Tổ ấp cũ", []string{moved})
		var he *server.HamletElsewhereError
		require.True(t, errors.As(err, &he), "%s: %v", store, err)
		require.Equal(t, servertest.CommuneB, he.Parent, store)
		_, err = a.AddTeamHamlet(ctx, ts.TeamA, moved)
		require.True(t, errors.As(err, &he), "%s: %v", store, err)

		got, err := a.ImportHamlets(ctx, []schema.AdminUnit{{Code: moved, Name: "Ấp Cây Trâm", Type: "ap", Level: schema.LevelHamlet, ParentCode: servertest.CommuneA}})
		require.NoError(t, err, store)
		require.Equal(t, servertest.CommuneB, got[0].ParentCode, store)
		require.Equal(t, servertest.CommuneB, parent(), "%s: renamed, it stays", store)

		_, err = a.AddHamlets(ctx, servertest.CommuneA, 1, 5)
		require.NoError(t, err, store)
		require.Equal(t, servertest.CommuneB, parent(), "%s: adding hamlets to its old commune leaves it", store)
	}
}
