package sqlitestore_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Health is what GET /healthz says.
type Health struct {
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func health(t *testing.T, base string) (int, Health) {
	t.Helper()
	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	defer resp.Body.Close()
	var h Health
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	return resp.StatusCode, h
}

// A full disk: the database cannot grow, so agents' pushes fail. /healthz
// says so (503 and why) instead of "ok", and says "ok" again once the
// store can write.
func TestHealthReportsAStoreThatCannotWrite(t *testing.T) {
	ts := servertest.Start(t)
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	st, h := health(t, ts.URL)
	require.Equal(t, http.StatusOK, st, "%+v", h)
	require.Equal(t, "ok", h.Status)

	undo, err := sqlitestore.FillDatabase(ts.Store.(*sqlitestore.Store))
	require.NoError(t, err)
	w := servertest.NewWriter(dev.Replica, nil)
	hamlet := ts.HamletsA[0]
	var batch []syncproto.Change
	for range 200 {
		row := uuid.New()
		batch = append(batch, w.Write("households", row, "hamlet_code", syncproto.String(hamlet), hamlet),
			w.Write("households", row, "head_name", syncproto.String("Hộ "+row.String()), hamlet))
	}
	_, err = c.Push(1, batch)
	require.ErrorIs(t, err, &syncproto.Error{Code: syncproto.CodeUnavailable}, "the push cannot be stored")

	st, h = health(t, ts.URL)
	require.Equal(t, http.StatusServiceUnavailable, st, "%+v", h)
	require.Equal(t, "store_cannot_write", h.Status)
	require.Equal(t, "disk_full", h.Reason)
	require.NotEmpty(t, h.Message)

	require.NoError(t, undo()) // space freed
	st, h = health(t, ts.URL)
	require.Equal(t, http.StatusOK, st, "%+v", h)
	c2 := ts.Connect(t, dev)
	ack, err := c2.Push(1, batch)
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
}

// A coordinator's report transition is a synced write like a push: when
// the store cannot take it, /healthz says so too, and says "ok" again once
// a transition commits.
func TestHealthReportsATransitionThatCannotBeStored(t *testing.T) {
	ts := servertest.Start(t)
	dev := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, nil)
	hamlet, report := ts.HamletsA[0], uuid.New()
	fields := []struct {
		f string
		v syncproto.Value
	}{
		{"hamlet_code", syncproto.String(hamlet)}, {"volunteer_id", syncproto.String(uuid.NewString())},
		// A description near its longest: the report's row then has no
		// room for a reason of the longest allowed length beside it.
		{"category", syncproto.String(schema.ReportCategories()[0].Code)}, {"description", syncproto.String(strings.TrimSpace(strings.Repeat("Đèn đường ấp 1 hỏng. ", 90)))},
	}
	var cs []syncproto.Change
	for _, f := range fields {
		cs = append(cs, w.Write("field_reports", report, f.f, f.v, hamlet))
	}
	ack, err := c.Push(1, cs)
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status, "%+v", ack.Results[0])

	undo, err := sqlitestore.FillDatabase(ts.Store.(*sqlitestore.Store))
	require.NoError(t, err)
	// A reason of the longest allowed length needs pages the store no
	// longer has.
	long := server.TransitionRequest{To: string(schema.StatusReturned), Reason: strings.Repeat("Không thuộc phản ánh hiện trường. ", 58)}
	_, err = ts.Server.Transition(context.Background(), report, long)
	require.Error(t, err, "the transition cannot be stored")
	st, h := health(t, ts.URL)
	require.Equal(t, http.StatusServiceUnavailable, st, "%+v", h)
	require.Equal(t, "store_cannot_write", h.Status)
	require.Equal(t, "disk_full", h.Reason)

	require.NoError(t, undo())
	_, err = ts.Server.Transition(context.Background(), report, long)
	require.NoError(t, err)
	st, h = health(t, ts.URL)
	require.Equal(t, http.StatusOK, st, "%+v", h)
}
