package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestEnrollmentErrors(t *testing.T) {
	clk := newFakeClock()
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.Now; c.EnrollFailures = 5 }))
	ctx := context.Background()
	m, err := ts.Admin.AddMember(ctx, ts.TeamA, "Phạm Văn D", "leader", "0912 345 678")
	require.NoError(t, err)
	code, exp, err := ts.Admin.IssueCode(ctx, m.ID, time.Hour)
	require.NoError(t, err)
	require.Regexp(t, `^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$`, code)
	require.WithinDuration(t, clk.Now().Add(time.Hour), exp, time.Second)
	expired, _, err := ts.Admin.IssueCode(ctx, m.ID, time.Minute)
	require.NoError(t, err)

	// Typed loosely (lower case, spaces) it still works, once.
	loose := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	er, status, eb, err := servertest.Enroll(ctx, ts.URL, loose, uuid.New(), "Laptop ấp 1")
	require.NoError(t, err)
	require.Equal(t, 200, status, "%+v", eb)
	require.Equal(t, m.ID, er.MemberID)
	require.Equal(t, ts.TeamA, er.TeamID)
	require.Equal(t, servertest.TeamAName, er.TeamName)
	require.Len(t, er.Scope, 2)
	require.Equal(t, "Khóm 1", er.Scope[0].Name)
	require.True(t, strings.HasPrefix(er.Token, "hmt_"))
	require.Equal(t, ts.Server.ID().String(), er.ServerID)

	clk.Advance(2 * time.Minute)
	cases := []struct {
		name   string
		code   string
		status int
		want   syncproto.Code
	}{
		{"used", code, http.StatusConflict, syncproto.CodeCodeUsed},
		{"expired", expired, http.StatusGone, syncproto.CodeCodeExpired},
		{"unknown", "ABCD-EFGH", http.StatusBadRequest, syncproto.CodeCodeInvalid},
		{"malformed", "O0I1", http.StatusBadRequest, syncproto.CodeCodeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, status, eb, err := servertest.Enroll(ctx, ts.URL, tc.code, uuid.New(), "x")
			require.NoError(t, err)
			require.Equal(t, tc.status, status)
			require.NotNil(t, eb)
			require.Equal(t, tc.want, eb.Error.Code)
			require.NotEmpty(t, eb.Error.Hint)
			require.NotEmpty(t, eb.Error.HintEN)
		})
	}
	// Too many wrong codes from one address: 429 even for a good code.
	for i := 0; i < 5; i++ {
		servertest.Enroll(ctx, ts.URL, "ZZZZ-ZZZZ", uuid.New(), "x")
	}
	good, _, err := ts.Admin.IssueCode(ctx, m.ID, time.Hour)
	require.NoError(t, err)
	_, status, eb, err = servertest.Enroll(ctx, ts.URL, good, uuid.New(), "x")
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, syncproto.CodeTooManyAttempts, eb.Error.Code, "not code_invalid: the code was not checked")
	require.Contains(t, eb.Error.Hint, "10 phút", "the hint (an older agent shows it) says how long to wait")
	clk.Advance(11 * time.Minute)
	_, status, _, err = servertest.Enroll(ctx, ts.URL, good, uuid.New(), "x")
	require.NoError(t, err)
	require.Equal(t, 200, status)
}

func TestAuthBeforeUpgrade(t *testing.T) {
	ts := servertest.Start(t)
	dev := ts.NewDevice(t, ts.TeamA)
	ctx := context.Background()
	for _, tc := range []struct {
		name, token string
		status      int
		code        syncproto.Code
	}{
		{"no token", "", 401, syncproto.CodeUnauthorized},
		{"unknown token", "hmt_nope", 401, syncproto.CodeUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, status, eb, err := servertest.Dial(ctx, ts.URL, tc.token)
			require.Error(t, err)
			require.Nil(t, c)
			require.Equal(t, tc.status, status)
			require.Equal(t, tc.code, eb.Error.Code)
		})
	}
	// A live session of a revoked device is told and closed; it cannot reconnect.
	live := ts.Connect(t, dev)
	require.NoError(t, ts.Admin.RevokeDevice(ctx, dev.Enroll.DeviceID))
	_, err := live.RecvAnswer()
	require.ErrorIs(t, err, &syncproto.Error{Code: syncproto.CodeTokenRevoked})
	_, status, eb, err := servertest.Dial(ctx, ts.URL, dev.Token)
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, status)
	require.Equal(t, syncproto.CodeTokenRevoked, eb.Error.Code)
}

func rawFrame(t *testing.T, v any) []byte {
	b, err := msgpack.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestBadFramesGetTheirCodeAndHurtNoOne(t *testing.T) {
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) {
		c.Limits = syncproto.DefaultLimits
		c.Limits.MaxFrame = 64 << 10
	}))
	bystander := newReplica(t, ts, ts.TeamA)
	dev := ts.NewDevice(t, ts.TeamA)
	cases := []struct {
		name  string
		hello bool
		typ   int
		frame []byte
		want  syncproto.Code
		fatal bool
	}{
		{"garbage", true, websocket.BinaryMessage, []byte{0xc1, 0xff, 0x00}, syncproto.CodeBadFrame, true},
		{"truncated", true, websocket.BinaryMessage, []byte{0x93, 0x03, 0x01}, syncproto.CodeBadFrame, true},
		{"unknown type", true, websocket.BinaryMessage, rawFrame(t, []any{99, 1}), syncproto.CodeUnknownType, true},
		{"oversized", true, websocket.BinaryMessage, make([]byte, 64<<10+1), syncproto.CodeTooLarge, true},
		{"text frame", true, websocket.TextMessage, []byte("hello"), syncproto.CodeBadFrame, true},
		{"push before hello", false, websocket.BinaryMessage, mustEncode(t, &syncproto.Push{Batch: 1}), syncproto.CodeUnexpected, false},
		{"server message", true, websocket.BinaryMessage, mustEncode(t, &syncproto.Notify{Cursor: 1}), syncproto.CodeUnexpected, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _, err := servertest.Dial(context.Background(), ts.URL, dev.Token)
			require.NoError(t, err)
			defer c.Close()
			if tc.hello {
				_, err := c.Hello(dev.Replica)
				require.NoError(t, err)
			}
			require.NoError(t, c.WS.WriteMessage(tc.typ, tc.frame))
			m, err := c.Recv()
			require.NoError(t, err)
			em, ok := m.(*syncproto.ErrorMsg)
			require.True(t, ok, "got %T", m)
			require.Equal(t, tc.want, em.Code)
			require.Equal(t, tc.fatal, em.Fatal)
			if tc.fatal {
				_, err = c.Recv()
				require.Error(t, err, "the server closes after a fatal error")
			}
		})
	}
	// The bystander's session never noticed.
	_, cs := household(bystander, ts.HamletsA[0], "Võ Thị E")
	ack := bystander.push(t, cs...)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
}

func mustEncode(t *testing.T, m syncproto.Message) []byte {
	b, err := syncproto.Encode(nil, m)
	require.NoError(t, err)
	return b
}

func TestVersionMismatch(t *testing.T) {
	ts := servertest.Start(t)
	dev := ts.NewDevice(t, ts.TeamA)
	for _, tc := range []struct {
		name     string
		protocol uint16
		schema   uint16
		says     string
	}{
		{"old protocol", syncproto.ProtocolVersion + 1, 1, "update hamlet-agent"},
		{"newer schema", syncproto.ProtocolVersion, 200, "update hamlet-server"},
		{"older schema", syncproto.ProtocolVersion, 0, "update hamlet-agent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _, err := servertest.Dial(context.Background(), ts.URL, dev.Token)
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.Send(&syncproto.Hello{Protocol: tc.protocol, Schema: tc.schema, Replica: dev.Replica}))
			m, err := c.Recv()
			require.NoError(t, err)
			em := m.(*syncproto.ErrorMsg)
			require.Equal(t, syncproto.CodeVersionMismatch, em.Code)
			require.True(t, em.Fatal)
			require.Contains(t, em.Msg, tc.says)
		})
	}
}

func TestPushRefusalsAndRestamp(t *testing.T) {
	ts := servertest.Start(t)
	r := newReplica(t, ts, ts.TeamA)
	h := ts.HamletsA[0]
	row, created := household(r, h, "Đặng Văn E")
	r.push(t, created...) // an existing row: each change is judged alone
	other := uuid.New()
	cases := []syncproto.Change{
		r.write("households", row, "head_name", syncproto.String("Đặng Văn F"), h),
		r.write("no_such_table", row, "x", syncproto.Int(1), h),
		r.write("households", row, "no_such_field", syncproto.Int(1), h),
		r.write("households", row, "members_count", syncproto.Int(500), h),
		r.write("households", row, "phone", syncproto.String("99999"), h),
		r.write("households", other, "hamlet_code", syncproto.String(ts.OtherHamletA), ts.OtherHamletA),
		r.write("households", other, "head_name", syncproto.String("G"), ts.OtherHamletA),
		r.write("households", row, "notes", syncproto.String("năm sau"), h),
	}
	cases[len(cases)-1].HLC = syncproto.MakeHLC(time.Now().Add(365*24*time.Hour).UnixMilli(), 0)
	ack := r.push(t, cases...)
	want := []struct {
		status syncproto.ResultStatus
		code   syncproto.Code
	}{
		{syncproto.ResultApplied, ""},
		{syncproto.ResultRefused, syncproto.CodeUnknownTable},
		{syncproto.ResultRefused, syncproto.CodeUnknownField},
		{syncproto.ResultRefused, syncproto.CodeInvalidValue},
		{syncproto.ResultRefused, syncproto.CodeInvalidValue},
		{syncproto.ResultRefused, syncproto.CodeOutOfScope},
		{syncproto.ResultRefused, syncproto.CodeOutOfScope},
		{syncproto.ResultApplied, ""},
	}
	for i, w := range want {
		require.Equal(t, w.status, ack.Results[i].Status, "change %d", i)
		require.Equal(t, w.code, ack.Results[i].Code, "change %d", i)
		if w.code != "" {
			require.NotEmpty(t, ack.Results[i].Reason)
		}
	}
	require.NotContains(t, ack.Results[4].Reason, "99999", "a reason never echoes the value")
	restamped := ack.Results[7].HLC
	require.NotZero(t, restamped, "a timestamp a year ahead is restamped")
	require.Less(t, restamped.Millis(), time.Now().Add(time.Minute).UnixMilli())

	// A gap refuses the whole batch, retryably; resending from PushedSeq works.
	gap := r.write("households", row, "notes", syncproto.String("sau"), h)
	gap.Dot.Seq += 5
	_, err := r.c.Push(50, []syncproto.Change{gap})
	require.ErrorIs(t, err, &syncproto.Error{Code: syncproto.CodeSequenceGap})
	require.True(t, syncproto.CodeSequenceGap.Retryable())
	gap.Dot.Seq -= 5
	ack, err = r.c.Push(51, []syncproto.Change{gap})
	require.NoError(t, err, "the session survives a gap")
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
}

// A value the schema would rewrite (here: untrimmed text) is refused with a
// reason, never silently rewritten: rewriting would leave the sender with a
// different value than everyone else under the same dot.
func TestNonCanonicalValueIsRefused(t *testing.T) {
	ts := servertest.Start(t)
	r := newReplica(t, ts, ts.TeamA)
	h := ts.HamletsA[0]
	row := uuid.New()
	ack := r.push(t, r.write("households", row, "head_name", syncproto.String("  Lê Văn Tám  "), h))
	require.Equal(t, syncproto.ResultRefused, ack.Results[0].Status)
	require.Equal(t, syncproto.CodeInvalidValue, ack.Results[0].Code)
	require.Equal(t, refusal.NotCanonical, ack.Results[0].Why.Key)
	require.Contains(t, ack.Results[0].Reason, "dạng chuẩn")
	require.NotContains(t, ack.Results[0].Reason, "Tám", "no personal data in the reason")
}
