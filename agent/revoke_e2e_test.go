package agent_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func syncErr(r *agent.Replica, ts *servertest.TS, tok string) (agent.SyncSummary, error) {
	return r.Sync(context.Background(), ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
}

// TestRevokedDeviceLosesNothing is issue 9 part 2 end to end: a volunteer
// records visits offline; the device is revoked (sync fails with
// token_revoked, nothing is lost locally); a new code, for another member
// of the same team who takes the laptop over, enrolls the same replica;
// sync pushes the records; the server holds them with their original origin
// and author, and another member's device pulls them attributed to the
// volunteer who recorded them.
func TestRevokedDeviceLosesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, tokA := realAgent(t, ts, ts.TeamA)
	leader, tokL := realAgent(t, ts, ts.TeamA)
	enA, err := a.Enrollment(ctx)
	require.NoError(t, err)
	author := enA.MemberID

	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Phạm Văn Dũng"})
	require.NoError(t, err)
	realSync(t, a, ts, tokA)

	// Offline: two visits and a tutoring record.
	v1, err := a.AddVisit(ctx, hh, agent.Fields{"notes": "lần 1"})
	require.NoError(t, err)
	v2, err := a.AddVisit(ctx, hh, agent.Fields{"notes": "lần 2"})
	require.NoError(t, err)
	tr, err := a.AddTutoring(ctx, hh, agent.Fields{"skill": "vneid_install", "outcome": "independent"})
	require.NoError(t, err)
	pending, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Positive(t, pending)

	// Revoked: sync is refused, and says so; everything stays.
	require.NoError(t, ts.Admin.RevokeDevice(ctx, enA.DeviceID))
	_, err = syncErr(a, ts, tokA)
	var re *agent.RevokedError
	require.ErrorAs(t, err, &re)
	require.ErrorIs(t, err, &syncproto.Error{Code: syncproto.CodeTokenRevoked})
	require.Equal(t, pending, re.Unsynced)
	require.Equal(t, 3, re.Records, "two visits and a tutoring record")
	vi := agent.MessageOf(err, "vi")
	require.Contains(t, vi, "đã bị thu hồi")
	require.Contains(t, vi, "hamlet-agent enroll --server "+ts.URL)
	require.Contains(t, vi, "3 bản ghi có thay đổi chưa gửi")
	require.Contains(t, agent.MessageOf(err, "en"), "ask IT staff for a new enrollment code")
	after, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, pending, after, "the outbox is kept")
	for _, id := range []string{v1.String(), v2.String()} {
		_, err := a.Show(ctx, "visits", id)
		require.NoError(t, err, "the visit is kept")
	}

	// The laptop is handed to another member of the team: a new code, the
	// same replica.
	taker, err := ts.Admin.AddMember(ctx, ts.TeamA, "Người nhận máy", "member", "")
	require.NoError(t, err)
	code, _, err := ts.Admin.IssueCode(ctx, taker.ID, time.Hour)
	require.NoError(t, err)
	replica := a.ID()
	tokA2, en2, err := a.Enroll(ctx, ts.URL, code, "máy cũ")
	require.NoError(t, err)
	require.Equal(t, replica, a.ID(), "the replica keeps its id")
	require.Equal(t, taker.ID, en2.MemberID)
	require.NotEqual(t, enA.DeviceID, en2.DeviceID)
	after, err = a.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, pending, after, "enrolling again keeps the outbox")

	s := realSync(t, a, ts, tokA2)
	require.Equal(t, pending, s.Pushed)
	require.Zero(t, s.Rejected)
	after, err = a.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, after)

	// The server holds them with their original origin and author: a fresh
	// protocol client pulls the log and reads the dots and volunteer_id.
	probe := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	changes, _, _, err := probe.PullAll(0)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, c := range changes {
		id := c.Row.String()
		if id != v1.String() && id != v2.String() && id != tr.String() {
			continue
		}
		require.Equal(t, replica, c.Dot.Replica, "origin of %s.%s", c.Table, c.Field)
		if c.Field == "volunteer_id" {
			require.Equal(t, author, c.Value.AsString(), "author of %s", c.Table)
			seen[id] = true
		}
	}
	require.Len(t, seen, 3, "every record's author is on the server")

	// The leader's device pulls them attributed to their original author.
	realSync(t, leader, ts, tokL)
	for table, id := range map[string]string{"visits": v1.String(), "tutoring_records": tr.String()} {
		d, err := leader.Show(ctx, table, id)
		require.NoError(t, err)
		require.Equal(t, author, d.Fields["volunteer_id"], table)
	}
	d, err := leader.Show(ctx, "visits", v2.String())
	require.NoError(t, err)
	require.Equal(t, "lần 2", d.Fields["notes"])

	// What the new holder records now carries the new holder.
	v3, err := a.AddVisit(ctx, hh, agent.Fields{"notes": "người mới"})
	require.NoError(t, err)
	realSync(t, a, ts, tokA2)
	realSync(t, leader, ts, tokL)
	d, err = leader.Show(ctx, "visits", v3.String())
	require.NoError(t, err)
	require.Equal(t, taker.ID, d.Fields["volunteer_id"])

	// The listing shows the history: the old device revoked, the new one
	// replacing it, both codes used by their devices.
	devs, err := ts.Admin.ListDevicesBy(ctx, server.DeviceFilter{TeamID: ts.TeamA})
	require.NoError(t, err)
	byID := map[string]server.Device{}
	for _, d := range devs {
		byID[d.ID] = d
	}
	require.NotNil(t, byID[enA.DeviceID].Revoked)
	require.Nil(t, byID[en2.DeviceID].Revoked)
	require.Equal(t, enA.DeviceID, byID[en2.DeviceID].Replaces)
	codes, err := ts.Admin.ListCodes(ctx, server.DeviceFilter{MemberID: taker.ID})
	require.NoError(t, err)
	require.Len(t, codes, 1)
	require.Equal(t, en2.DeviceID, codes[0].DeviceID)
}

// A restored device's old token syncs again, pushing what was recorded
// while it was revoked.
func TestRestoredDeviceSyncsWithItsOldToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, tok := realAgent(t, ts, ts.TeamA)
	en, err := a.Enrollment(ctx)
	require.NoError(t, err)
	_, err = a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Võ Thị Lan"})
	require.NoError(t, err)

	require.NoError(t, ts.Admin.RevokeDevice(ctx, en.DeviceID))
	_, err = syncErr(a, ts, tok)
	require.ErrorIs(t, err, &syncproto.Error{Code: syncproto.CodeTokenRevoked})

	_, err = ts.Admin.RestoreDevice(ctx, en.DeviceID)
	require.NoError(t, err)
	s := realSync(t, a, ts, tok)
	require.Positive(t, s.Pushed)
}

// Enrolling a replica that is still active elsewhere is refused with what
// to do; the laptop keeps its working token and the code stays usable.
func TestReenrollWhileActiveIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, tok := realAgent(t, ts, ts.TeamA)
	en, err := a.Enrollment(ctx)
	require.NoError(t, err)
	code := ts.EnrollCode(t, ts.TeamA)

	_, _, err = a.Enroll(ctx, ts.URL, code, "máy")
	var se *agent.ServerError
	require.ErrorAs(t, err, &se)
	require.Equal(t, syncproto.CodeReplicaActive, se.Code)
	// The active device is this laptop's own (helper 157): it is told it
	// is enrolled, not to have "the old device" revoked.
	require.Contains(t, agent.MessageOf(err, "vi"), "đã được đăng ký")
	require.Contains(t, agent.MessageOf(err, "vi"), "không cần làm gì thêm")
	require.NotContains(t, agent.MessageOf(err, "vi"), "thu hồi thiết bị cũ")
	still, err := a.Enrollment(ctx)
	require.NoError(t, err)
	require.Equal(t, en.DeviceID, still.DeviceID, "a refused enrollment changes nothing")
	realSync(t, a, ts, tok)

	// Once the old device is revoked, the same code works.
	require.NoError(t, ts.Admin.RevokeDevice(ctx, en.DeviceID))
	_, _, err = a.Enroll(ctx, ts.URL, code, "máy")
	require.NoError(t, err)

	// Another team's code is refused for this replica.
	now, err := a.Enrollment(ctx)
	require.NoError(t, err)
	require.NoError(t, ts.Admin.RevokeDevice(ctx, now.DeviceID))
	_, _, err = a.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamB), "máy")
	require.True(t, errors.As(err, &se))
	require.Equal(t, syncproto.CodeReplicaTeam, se.Code)
}
