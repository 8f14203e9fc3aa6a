package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// connectAtSchema says Hello as an agent at data schema v.
func connectAtSchema(t *testing.T, ts *servertest.TS, d servertest.Device, v uint16) (*servertest.Client, *syncproto.Welcome) {
	t.Helper()
	c, status, eb, err := servertest.Dial(context.Background(), ts.URL, d.Token)
	require.NoError(t, err, "dial: status %d %+v", status, eb)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.Send(&syncproto.Hello{Protocol: syncproto.ProtocolVersion, Schema: v, Replica: d.Replica,
		Client: "servertest", SentAt: time.Now().UnixMilli()}))
	m, err := c.RecvAnswer()
	require.NoError(t, err)
	w, ok := m.(*syncproto.Welcome)
	require.True(t, ok, "want welcome, got %#v", m)
	c.Replica = d.Replica
	return c, w
}

// TestSchemaSessionsOfBothVersions: one server, a schema 1 and a schema 2
// session open at once. The schema 1 agent receives the field its schema
// lacks; its pushes of known fields are applied; a push of the new field
// with a wrong type (a tampered agent) is refused with a reason naming the
// field and the version that added it, while a well-typed one (a value the
// agent received and restored) is applied like any write.
func TestSchemaSessionsOfBothVersions(t *testing.T) {
	ts := servertest.Start(t)
	d1, d2 := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamA)
	c1, w1 := connectAtSchema(t, ts, d1, 1)
	c2, w2 := connectAtSchema(t, ts, d2, 2)
	for _, w := range []*syncproto.Welcome{w1, w2} {
		require.EqualValues(t, schema.Version, w.Schema)
		require.EqualValues(t, schema.MinSupportedVersion, w.MinSchema)
	}
	old, cur := servertest.NewWriter(d1.Replica, nil), servertest.NewWriter(d2.Replica, nil)
	h := ts.HamletsA[0]
	row := uuid.New()

	ack, err := c2.Push(1, []syncproto.Change{
		cur.Write("households", row, "hamlet_code", syncproto.String(h), h),
		cur.Write("households", row, "head_name", syncproto.String("Trương Văn Bảy"), h),
		cur.Write("households", row, "uses_camau_g", syncproto.Bool(true), h),
	})
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, r.Reason)
	}

	// The schema 1 session is sent the new field.
	changes, _, _, err := c1.PullAll(0)
	require.NoError(t, err)
	var sawNew bool
	for _, c := range changes {
		old.Saw(c)
		if c.Row == row && c.Field == "uses_camau_g" {
			sawNew = c.Value == syncproto.Bool(true)
		}
	}
	require.True(t, sawNew, "a schema 1 agent receives uses_camau_g")

	ack, err = c1.Push(1, []syncproto.Change{
		old.Write("households", row, "notes", syncproto.String("hộ khó khăn"), h),
		old.Write("households", row, "uses_camau_g", syncproto.String("có"), h),
		old.Write("households", uuid.New(), "uses_camau_g", syncproto.Int(1), h),
	})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status, ack.Results[0].Reason)
	for _, r := range ack.Results[1:] {
		require.Equal(t, syncproto.ResultRefused, r.Status)
		require.Equal(t, syncproto.CodeInvalidValue, r.Code)
		require.Equal(t, refusal.NewerField, r.Why.Key)
		require.Contains(t, refusal.Text(r.Code, r.Why, "en"), "households.uses_camau_g was added in data schema 2 and this agent runs schema 1")
		require.Contains(t, r.Reason, "có từ lược đồ dữ liệu 2", "Vietnamese for agents that read only Reason")
	}
	// The same wrong value from a schema 2 agent gets the plain reason.
	ack, err = c2.Push(2, []syncproto.Change{cur.Write("households", row, "uses_camau_g", syncproto.String("có"), h)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultRefused, ack.Results[0].Status)
	require.Equal(t, schema.CodeWrongType, ack.Results[0].Why.Key)

	// A well-typed value from the schema 1 agent (a restored conflict
	// loser, say) is an ordinary write.
	ack, err = c1.Push(2, []syncproto.Change{old.Write("households", row, "uses_camau_g", syncproto.Bool(false), h)})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status, ack.Results[0].Reason)

	got := map[string]syncproto.Value{}
	changes, _, _, err = c2.PullAll(0)
	require.NoError(t, err)
	for _, c := range changes {
		if c.Row == row {
			got[c.Field] = c.Value
		}
	}
	require.Equal(t, syncproto.String("hộ khó khăn"), got["notes"])
	require.Equal(t, syncproto.Bool(false), got["uses_camau_g"])
}

// TestSchema2AgentsAndPhotoDigests: schema 3 added field_reports.photo_digests.
// A schema 2 agent (the previous release) keeps syncing: it receives the
// field it does not know, its edits of a report's other fields apply, and
// a photo list it could only have made up (not the canonical form) is
// refused with a reason naming the field, the version that added it and
// the agent's.
func TestSchema2AgentsAndPhotoDigests(t *testing.T) {
	ts := servertest.Start(t)
	d2, d3 := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamA)
	c2, _ := connectAtSchema(t, ts, d2, 2)
	c3, _ := connectAtSchema(t, ts, d3, 3)
	old, cur := servertest.NewWriter(d2.Replica, nil), servertest.NewWriter(d3.Replica, nil)
	h := ts.HamletsA[0]
	row := uuid.New()
	digest := strings.Repeat("5e", 32)
	str := func(s string) syncproto.Value { return syncproto.String(s) }
	ack, err := c3.Push(1, []syncproto.Change{
		cur.Write("field_reports", row, "hamlet_code", str(h), h),
		cur.Write("field_reports", row, "volunteer_id", str(d3.Enroll.MemberID), h),
		cur.Write("field_reports", row, "category", str("cap_thoat_nuoc"), h),
		cur.Write("field_reports", row, "description", str("Ống nước vỡ"), h),
		cur.Write("field_reports", row, "status", str("submitted"), h),
		cur.Write("field_reports", row, schema.PhotoDigestsField, str(`["`+digest+`"]`), h),
	})
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, r.Reason)
	}
	changes, _, _, err := c2.PullAll(0)
	require.NoError(t, err)
	var saw bool
	for _, c := range changes {
		old.Saw(c)
		saw = saw || (c.Row == row && c.Field == schema.PhotoDigestsField && c.Value == str(`["`+digest+`"]`))
	}
	require.True(t, saw, "a schema 2 agent receives photo_digests")
	ack, err = c2.Push(1, []syncproto.Change{
		old.Write("field_reports", row, "location", str("Đầu kênh xáng"), h),
		old.Write("field_reports", row, schema.PhotoDigestsField, str(`["anh1.jpg"]`), h),
	})
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status, ack.Results[0].Reason)
	require.Equal(t, syncproto.ResultRefused, ack.Results[1].Status)
	require.Equal(t, refusal.NewerField, ack.Results[1].Why.Key)
	text := refusal.Text(ack.Results[1].Code, ack.Results[1].Why, "en")
	require.Contains(t, text, "field_reports.photo_digests was added in data schema 3 and this agent runs schema 2")
	// The value is text, in the wrong form: the reason says so, and does
	// not ask for the text it already is.
	require.Contains(t, text, "is in the wrong form")
	require.NotContains(t, text, "wants string, got string")
}
