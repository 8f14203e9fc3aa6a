package server_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
)

func TestPasswordHash(t *testing.T) {
	h, err := server.HashPassword("đúng rồi 123")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
	require.True(t, server.CheckPassword(h, "đúng rồi 123"))
	require.False(t, server.CheckPassword(h, "đúng rồi 124"))
	h2, _ := server.HashPassword("đúng rồi 123")
	require.NotEqual(t, h, h2, "salt per hash")
	require.False(t, server.CheckPassword("garbage", "x"))
}
