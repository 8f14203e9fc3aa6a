package main

import (
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The server's log, at its most verbose, holds no personal data through
// the flows that log most: enrollment with a wrong code and a right one,
// households and a field report sent, changes the server refuses (a date
// in the future), the rejected list read. A value typed on the laptop
// stays on the laptop and in the server's data, never in its log
// (DESIGN.md: personal data never appears in logs).
func TestServerLogHoldsNoPersonalData(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	const (
		head    = "Nguyễn Thị Riêngtư"
		phone   = "0987654321"
		address = "Số 7 hẻm Bíẩn"
		text    = "Cống vỡ trước nhà Bíẩn"
	)
	l := newLaptop(t, t.TempDir())
	require.NotEqual(t, 0, l.run("enroll", "--server", ts.URL, "--code", "AAAA-BBBB").code)
	code := ts.EnrollCode(t, ts.TeamA)
	l.must("enroll", "--server", ts.URL, "--code", code)
	hamlet := ts.HamletsA[0]
	id := l.must("household", "add", "--hamlet", hamlet, "--head", head, "--phone", phone, "--address", address, "--json")
	require.Equal(t, 1, l.run("household", "add", "--hamlet", hamlet, "--head", head, "--phone", phone+"99").code)
	l.must("report", "add", "--hamlet", hamlet, "--category", "ha_tang_do_thi", "--description", text,
		"--location", address, "--reporter-name", head, "--reporter-phone", phone, "--consent", "no")
	l.must("sync")
	// A year ahead: the server refuses the visit's date.
	var rec struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(id.stdout), &rec))
	l.env = []string{"HAMLET_CLOCK_SHIFT=+8760h", "HAMLET_TEST=1"}
	l.must("visit", "add", "--household", rec.ID, "--notes", text)
	l.env = nil
	r := l.must("sync")
	require.Contains(t, l.must("rejected").stdout, text, "the refusal is the volunteer's to see: %s", r.stdout)
	l.must("rejected", "--json")

	got := logs.String()
	require.Contains(t, got, "push applied", "the debug log was captured")
	require.Contains(t, got, "refused=5", "the future visit was refused: %s", got)
	require.Contains(t, got, "enrollment refused", "the wrong code was logged")
	for _, v := range []string{head, phone, address, text, code} {
		require.NotContains(t, got, v, "the server's log holds %q", v)
	}
}
