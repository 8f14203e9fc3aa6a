package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Issue 14, defect 1 at the protocol: two copies of one data folder push
// the same sequences. The server answers the second copy's changes
// replica_forked from the first that differs, takes none of them (nor a
// batch pipelined behind), and ends the session; the same change pushed
// again (a lost Ack) is still a duplicate, even one the server restamped,
// and so is the same change pushed by a copy that stamped it otherwise.
func TestForkedReplicaIsTold(t *testing.T) {
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.MaxSkew = time.Minute }))
	h := ts.HamletsA[0]
	dev := ts.NewDevice(t, ts.TeamA)
	watcher := newReplica(t, ts, ts.TeamA)

	// The original: a household, the last change stamped an hour ahead
	// (restamped by the server).
	orig := servertest.NewWriter(dev.Replica, nil)
	row := uuid.New()
	shared := []syncproto.Change{
		orig.Write("households", row, "hamlet_code", syncproto.String(h), h),
		orig.Write("households", row, "head_name", syncproto.String("Chủ hộ chung"), h),
	}
	ahead := orig.Write("households", row, "notes", syncproto.String("ghi chú"), h)
	ahead.HLC = syncproto.MakeHLC(time.Now().Add(time.Hour).UnixMilli(), 0)
	shared = append(shared, ahead)
	a := ts.Connect(t, dev)
	ack, err := a.Push(1, shared)
	require.NoError(t, err)
	require.NotZero(t, ack.Results[2].HLC, "restamped")

	// Its Ack lost: the same changes again are duplicates.
	b := ts.Connect(t, dev)
	ack, err = b.Push(1, shared)
	require.NoError(t, err)
	require.Equal(t, []syncproto.ResultStatus{3, 3, 3}, statuses(ack))
	restamp := ack.Results[2].HLC

	// The same writes from another copy of the folder, which restamped
	// them at its own Welcome: the same writes, duplicates, answered with
	// the stamps the server holds (a fork here listed a conflict of each
	// value with itself on both laptops).
	stamped := append([]syncproto.Change{}, shared...)
	for i := range stamped {
		stamped[i].HLC += syncproto.MakeHLC(7, 0)
	}
	ack, err = b.Push(3, stamped)
	require.NoError(t, err)
	require.Equal(t, []syncproto.ResultStatus{3, 3, 3}, statuses(ack))
	require.Equal(t, []syncproto.HLC{shared[0].HLC, shared[1].HLC, restamp},
		[]syncproto.HLC{ack.Results[0].HLC, ack.Results[1].HLC, ack.Results[2].HLC})

	// The copy: the shared changes, then its own under the same numbers as
	// the original's next ones.
	mine := orig.Write("households", row, "members_count", syncproto.Int(3), h) // seq 4, the original's
	require.Equal(t, uint64(4), mine.Dot.Seq)
	ack, err = b.Push(2, []syncproto.Change{mine})
	require.NoError(t, err)
	require.Equal(t, []syncproto.ResultStatus{1}, statuses(ack))

	copyW := servertest.NewWriter(dev.Replica, nil)
	copyW.Seq = 3
	other := uuid.New()
	theirs := []syncproto.Change{
		copyW.Write("households", other, "hamlet_code", syncproto.String(h), h), // 4: the original has another change there
		copyW.Write("households", other, "head_name", syncproto.String("Chủ hộ bản sao"), h),
		copyW.Write("households", other, "members_count", syncproto.Int(2), h), // 6: new to the server, not taken either
	}
	c := ts.Connect(t, dev)
	batch := append(append([]syncproto.Change{}, shared...), theirs...)
	require.NoError(t, c.Send(&syncproto.Push{Batch: 1, Changes: batch}))
	// A batch pipelined behind it: never applied.
	later := copyW.Write("households", other, "address", syncproto.String("Ấp 1"), h)
	require.NoError(t, c.Send(&syncproto.Push{Batch: 2, Changes: []syncproto.Change{later}}))
	m, err := c.RecvAnswer()
	require.NoError(t, err)
	ack = m.(*syncproto.Ack)
	require.Equal(t, []syncproto.ResultStatus{3, 3, 3, 4, 4, 4}, statuses(ack))
	for _, r := range ack.Results[3:] {
		require.Equal(t, syncproto.CodeReplicaForked, r.Code)
		require.Equal(t, refusal.Why(refusal.Forked, "seq", "4"), r.Why)
		require.Contains(t, r.Reason, "Thay đổi 4 ", "rendered for agents before reasons were data")
	}
	_, err = c.RecvAnswer()
	var pe *syncproto.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, syncproto.CodeReplicaForked, pe.Code)
	_, err = c.RecvAnswer()
	require.Error(t, err, "the session is over")

	require.Equal(t, uint64(4), ts.Connect(t, dev).Welcome.PushedSeq, "nothing of the copy was taken")
	cs, _ := watcher.pull(t)
	for _, ch := range cs {
		require.NotEqual(t, other, ch.Row, "the copy's household is not on the server under the shared replica")
	}
	require.Equal(t, syncproto.Int(3), values(watcher)[syncproto.FieldKey{Table: "households", Row: row, Field: "members_count"}])
}

// POST /v1/fork: the copy's own device for its new replica id, asked with
// the token it holds; the same request again gets the same device.
func TestForkEndpoint(t *testing.T) {
	ts := servertest.Start(t)
	dev := ts.NewDevice(t, ts.TeamA)
	post := func(token string, req server.ForkRequest) (int, syncproto.EnrollResponse, server.ErrorBody) {
		t.Helper()
		b, _ := json.Marshal(req)
		hr, err := http.NewRequest(http.MethodPost, ts.URL+"/v1/fork", bytes.NewReader(b))
		require.NoError(t, err)
		hr.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(hr)
		require.NoError(t, err)
		defer resp.Body.Close()
		var ok syncproto.EnrollResponse
		var eb server.ErrorBody
		if resp.StatusCode == http.StatusOK {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&ok))
		} else {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&eb))
		}
		return resp.StatusCode, ok, eb
	}
	copyID := uuid.New()
	req := server.ForkRequest{ReplicaID: copyID.String(), StartSeq: 17, Label: "máy chép", Client: "servertest"}
	st, en, _ := post(dev.Token, req)
	require.Equal(t, http.StatusOK, st)
	require.NotEqual(t, dev.Enroll.DeviceID, en.DeviceID)
	require.Equal(t, dev.Enroll.MemberID, en.MemberID)
	require.Equal(t, ts.HamletsA, []string{en.Scope[0].Code, en.Scope[1].Code})
	c := ts.Connect(t, servertest.Device{Replica: copyID, Token: en.Token})
	require.Equal(t, uint64(17), c.Welcome.PushedSeq)
	w := servertest.NewWriter(copyID, nil)
	w.Seq = 17
	hh := uuid.New()
	ack, err := c.Push(1, []syncproto.Change{
		w.Write("households", hh, "hamlet_code", syncproto.String(ts.HamletsA[0]), ts.HamletsA[0]),
		w.Write("households", hh, "head_name", syncproto.String("Chủ hộ máy chép"), ts.HamletsA[0]),
	})
	require.NoError(t, err)
	require.Equal(t, []syncproto.ResultStatus{1, 1}, statuses(ack), "numbered from 18 on")
	ts.Connect(t, dev) // the original's token still works

	// Asked again once its device connected: another copy of the folder
	// that chose the same id (copied while the fork waited) is refused,
	// and the device keeps its token (simulation wide seed 4630314).
	st2, _, eb2 := post(dev.Token, req)
	require.Equal(t, http.StatusConflict, st2)
	require.Equal(t, syncproto.CodeReplicaActive, eb2.Error.Code)
	ts.Connect(t, servertest.Device{Replica: copyID, Token: en.Token})

	// Asked again before its device ever connected (the answer was lost):
	// the same device, and the lost answer's token stops working.
	lostReq := server.ForkRequest{ReplicaID: uuid.NewString(), StartSeq: 17, Label: "máy chép", Client: "servertest"}
	st3, lost, _ := post(dev.Token, lostReq)
	require.Equal(t, http.StatusOK, st3)
	st4, again, _ := post(dev.Token, lostReq)
	require.Equal(t, http.StatusOK, st4)
	require.Equal(t, lost.DeviceID, again.DeviceID)
	_, code, eb, err := servertest.Dial(context.Background(), ts.URL, lost.Token)
	require.Error(t, err)
	require.Equal(t, http.StatusUnauthorized, code, "the lost answer's token stops working: %+v", eb)

	for name, tc := range map[string]struct {
		token  string
		req    server.ForkRequest
		status int
		code   syncproto.Code
	}{
		"no token":            {"", req, http.StatusUnauthorized, syncproto.CodeUnauthorized},
		"its own replica id":  {dev.Token, server.ForkRequest{ReplicaID: dev.Replica.String()}, http.StatusBadRequest, syncproto.CodeInvalidValue},
		"not a uuid":          {dev.Token, server.ForkRequest{ReplicaID: "x"}, http.StatusBadRequest, syncproto.CodeInvalidValue},
		"another's replica":   {ts.NewDevice(t, ts.TeamA).Token, req, http.StatusConflict, syncproto.CodeReplicaActive},
		"start beyond reason": {dev.Token, server.ForkRequest{ReplicaID: uuid.NewString(), StartSeq: 1 << 60}, http.StatusBadRequest, syncproto.CodeInvalidValue},
	} {
		st, _, eb := post(tc.token, tc.req)
		require.Equal(t, tc.status, st, name)
		require.Equal(t, tc.code, eb.Error.Code, name)
	}
	devs, err := ts.Admin.ListDevices(context.Background())
	require.NoError(t, err)
	require.NoError(t, ts.Admin.RevokeDevice(context.Background(), dev.Enroll.DeviceID))
	st, _, reb := post(dev.Token, server.ForkRequest{ReplicaID: uuid.NewString()})
	require.Equal(t, http.StatusForbidden, st)
	require.Equal(t, syncproto.CodeTokenRevoked, reb.Error.Code)
	after, err := ts.Admin.ListDevices(context.Background())
	require.NoError(t, err)
	require.Len(t, after, len(devs), "no device made by a refused fork")
}

// Issue 14, defect 3 at the protocol: an enrollment of a replica holding
// another server's data is refused before the code is used.
func TestEnrollOtherServerKeepsTheCode(t *testing.T) {
	ts := servertest.Start(t)
	ctx := context.Background()
	m, err := ts.Admin.AddMember(ctx, ts.TeamA, "Thành viên", "member", "")
	require.NoError(t, err)
	code, _, err := ts.Admin.IssueCode(ctx, m.ID, time.Hour)
	require.NoError(t, err)
	body, _ := json.Marshal(syncproto.EnrollRequest{Code: code, ReplicaID: uuid.NewString(), Label: "máy", ServerID: uuid.NewString()})
	resp, err := http.Post(ts.URL+"/v1/enroll", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	var eb server.ErrorBody
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&eb))
	resp.Body.Close()
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Equal(t, syncproto.CodeOtherServer, eb.Error.Code)
	require.Contains(t, eb.Error.Hint, "mã chưa bị dùng")
	codes, err := ts.Admin.ListCodes(ctx, server.DeviceFilter{MemberID: m.ID})
	require.NoError(t, err)
	require.Nil(t, codes[0].Used)
	devs, err := ts.Admin.ListDevicesBy(ctx, server.DeviceFilter{MemberID: m.ID})
	require.NoError(t, err)
	require.Empty(t, devs)

	// Its own server id, or none: enrolled.
	status, err := ts.Admin.SyncStatus(ctx)
	require.NoError(t, err)
	body, _ = json.Marshal(syncproto.EnrollRequest{Code: code, ReplicaID: uuid.NewString(), Label: "máy", ServerID: status.ServerID})
	resp, err = http.Post(ts.URL+"/v1/enroll", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestCopysLaterSameWrite (helper 215): a copy of a folder pushes, under a
// sequence the server holds, the change the server holds there (the same
// row, field, value and base) with a later stamp, after a teammate
// overwrote that change. Made later than the teammate's value, it is the
// copy's own later write, which must win: the server answers it
// replica_forked, so the copy pushes it again under its new id (answered
// duplicate, it took the held stamp and vanished without a conflict).
// Made before the teammate's value, it is a duplicate answered with the
// held stamp. A lost Ack's re-push is a duplicate, whatever came since:
// under the stamp it was pushed with, or under one the server restamped.
func TestCopysLaterSameWrite(t *testing.T) {
	now := time.Now()
	at := func(d time.Duration) syncproto.HLC { return syncproto.MakeHLC(now.Add(d).UnixMilli(), 0) }
	for _, tc := range []struct {
		name     string
		held     syncproto.HLC // the stamp the first push gave the phone
		again    syncproto.HLC // the stamp of the push again (0: the same)
		status   syncproto.ResultStatus
		answered func(held, restamp syncproto.HLC) syncproto.HLC
	}{
		{name: "copy's later write", held: at(-10 * time.Minute), again: at(-time.Minute), status: syncproto.ResultRefused},
		{name: "copy's earlier write", held: at(-10 * time.Minute), again: at(-7 * time.Minute), status: syncproto.ResultDuplicate,
			answered: func(held, _ syncproto.HLC) syncproto.HLC { return held }},
		{name: "lost Ack", held: at(-10 * time.Minute), status: syncproto.ResultDuplicate,
			answered: func(syncproto.HLC, syncproto.HLC) syncproto.HLC { return 0 }},
		{name: "lost Ack of a restamped write", held: at(time.Hour), status: syncproto.ResultDuplicate,
			answered: func(_, restamp syncproto.HLC) syncproto.HLC { return restamp }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := servertest.Start(t)
			h := ts.HamletsA[0]
			dev := ts.NewDevice(t, ts.TeamA)
			w := servertest.NewWriter(dev.Replica, nil)
			row := uuid.New()
			cs := w.Household(row, h, "Chủ hộ")
			cs[0].HLC, cs[1].HLC = at(-20*time.Minute), at(-20*time.Minute)
			phone := w.Write("households", row, "phone", syncproto.String("0911111111"), h)
			phone.HLC = tc.held
			cs = append(cs, phone)
			ack, err := ts.Connect(t, dev).Push(1, cs)
			require.NoError(t, err)
			restamp := ack.Results[2].HLC
			held := tc.held
			if restamp != 0 {
				held = restamp
			}

			// A teammate overwrites the phone, after the held write (a
			// minute after whichever is later: its stamp, or now-5min).
			mate := ts.NewDevice(t, ts.TeamA)
			mw := servertest.NewWriter(mate.Replica, nil)
			mw.Saw(syncproto.Change{Table: "households", Row: row, Field: "phone", Value: phone.Value, HLC: held, Dot: phone.Dot, Base: phone.Base, Scope: h})
			y := mw.Write("households", row, "phone", syncproto.String("0922222222"), h)
			require.Equal(t, phone.Dot, y.Base)
			y.HLC = max(at(-5*time.Minute), held+1)
			ack, err = ts.Connect(t, mate).Push(1, []syncproto.Change{y})
			require.NoError(t, err)
			require.Equal(t, []syncproto.ResultStatus{syncproto.ResultApplied}, statuses(ack))

			again := append([]syncproto.Change{}, cs...)
			if tc.again != 0 {
				again[2].HLC = tc.again
			}
			ack, err = ts.Connect(t, dev).Push(1, again)
			require.NoError(t, err)
			require.Equal(t, []syncproto.ResultStatus{3, 3, tc.status}, statuses(ack))
			if tc.status == syncproto.ResultRefused {
				require.Equal(t, syncproto.CodeReplicaForked, ack.Results[2].Code)
				return
			}
			require.Equal(t, tc.answered(held, restamp), ack.Results[2].HLC)
		})
	}
}
