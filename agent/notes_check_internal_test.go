package agent

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDropUnreadNotes: repair leaves out the notes that do not read, says
// which news for the volunteer was among them, and keeps the rest.
func TestDropUnreadNotes(t *testing.T) {
	sv := &salvaged{meta: map[string]any{
		"enrollment":           `{"server": "http://x", "sco`,
		metaScopeHeld:          `["32002-0`,
		carriedPartsFrom + "1": `{"a":`,
		metaFormerIDs:          `[]`,
		metaNotices:            `{"last": 3, "list": [`,
		metaLostUntold:         `{"hamlets": ["32002-01"], "dropped": 4}`,
		metaForkUntold:         []byte(`{"fork"`),
		"seq":                  int64(7),
	}}
	rep := &RepairReport{}
	dropUnreadNotes(sv, rep)
	require.Equal(t, []string{carriedPartsFrom + "1", metaScopeHeld}, rep.UnreadNotes)
	require.Equal(t, []UntoldNote{UntoldFork, UntoldNotices}, rep.Untold)
	require.NotContains(t, sv.meta, "enrollment")
	require.Contains(t, sv.meta, metaFormerIDs)
	require.Contains(t, sv.meta, metaLostUntold)
	require.Contains(t, sv.meta, "seq")
}
