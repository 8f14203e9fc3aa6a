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
}
