package syncproto_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
)

func TestSchemaAdviceRoundTrip(t *testing.T) {
	for _, a := range []syncproto.SchemaAdvice{
		{Agent: 1, Min: 2, Max: 2, Update: "https://hamlet.camau.gov.vn/tai-ve"},
		{Agent: 0, Min: 1, Max: 2},
		{Agent: 3, Min: 1, Max: 2, Update: "apt install hamlet-agent"},
	} {
		e := a.Err()
		require.Equal(t, syncproto.CodeVersionMismatch, e.Code)
		got, ok := syncproto.ParseSchemaAdvice(e.Msg)
		require.True(t, ok, e.Msg)
		require.Equal(t, a, got)
		for _, lang := range []string{"vi", "en"} {
			h := a.Hint(lang)
			require.NotEmpty(t, h)
			if a.TooOld() {
				require.Contains(t, h, a.Update)
				require.Contains(t, h, "hamlet-agent")
			} else {
				require.Contains(t, h, "hamlet-server")
			}
		}
	}
	_, ok := syncproto.ParseSchemaAdvice("this server speaks sync protocol 2 and the agent speaks 1")
	require.False(t, ok)

	// A server built at schema 1 words its refusals as before; an agent
	// updated first still hears that the server must be updated.
	a, ok := syncproto.ParseSchemaAdvice("the agent's data schema 2 is newer than this server's (1): the operator must update hamlet-server")
	require.True(t, ok)
	require.False(t, a.TooOld())
	require.Contains(t, a.Hint("vi"), "cập nhật hamlet-server")
	a, ok = syncproto.ParseSchemaAdvice("the agent's data schema 0 is older than the oldest this server accepts (1): update hamlet-agent to the latest release")
	require.True(t, ok)
	require.Equal(t, syncproto.SchemaAdvice{Agent: 0, Min: 1, Max: 1}, a)
}
