package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"

	"github.com/hamlet-vn/hamlet/server"
)

// A password with Vietnamese letters set from one keyboard (Unikey
// "Unicode tổ hợp": NFD, or a file written on macOS) must work when typed
// from another ("Unicode dựng sẵn": NFC), and the other way round.
func TestPasswordNormalisationForm(t *testing.T) {
	pw := "mật khẩu Hường 2025"
	h, err := server.HashPassword(norm.NFD.String(pw))
	require.NoError(t, err)
	require.True(t, server.CheckPassword(h, norm.NFC.String(pw)), "set NFD, typed NFC")
	h, err = server.HashPassword(norm.NFC.String(pw))
	require.NoError(t, err)
	require.True(t, server.CheckPassword(h, norm.NFD.String(pw)), "set NFC, typed NFD")
}
