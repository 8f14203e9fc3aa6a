package agent_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// The revoked laptop's message counts in English as a person would: one
// record, two records.
func TestRevokedMessageCountsInEnglish(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		e    agent.RevokedError
		want []string
	}{
		{agent.RevokedError{Records: 1, Unsynced: 1, Rejected: 1, Conflicts: 1, Photos: 1},
			[]string{"1 record with unsynced changes (1 change)", "1 refused change and 1 conflict", "1 photo not sent yet"}},
		{agent.RevokedError{Records: 2, Unsynced: 3, Rejected: 0, Conflicts: 2, Photos: 4},
			[]string{"2 records with unsynced changes (3 changes)", "0 refused changes and 2 conflicts", "4 photos not sent yet"}},
	} {
		msg := c.e.Message("en")
		for _, w := range c.want {
			require.Contains(t, msg, w)
		}
		require.Contains(t, c.e.Message("vi"), "bản ghi có thay đổi chưa gửi")
	}
}
