package servertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// StartFunc starts a test server on some store with the configuration edit
// cfg; the rule suites below run on each store through it.
type StartFunc func(t *testing.T, cfg func(*server.Config)) *TS

// RulesNow is the fixed day the rule suites run on: 15 June 2026, 10:00 in
// Vietnam. The server's clock and the test writers' clocks both advance
// from it, so "today" is known exactly.
var RulesNow = time.Date(2026, 6, 15, 3, 0, 0, 0, time.UTC)

// rulesClock reads RulesNow plus the real time elapsed since it was made.
func rulesClock() func() time.Time {
	start := time.Now()
	return func() time.Time { return RulesNow.Add(time.Since(start)) }
}

// ruleClient is a device speaking the protocol with crafted changes.
type ruleClient struct {
	t     *testing.T
	c     *Client
	w     *Writer
	batch uint64
}

func (r *ruleClient) push(cs ...syncproto.Change) []syncproto.Result {
	r.t.Helper()
	r.batch++
	ack, err := r.c.Push(r.batch, cs)
	require.NoError(r.t, err)
	require.Len(r.t, ack.Results, len(cs))
	return ack.Results
}

// rows is what the device pulls: each row's fields, by row id.
func (r *ruleClient) rows(cursor uint64) map[syncproto.RowID]map[string]syncproto.Value {
	r.t.Helper()
	cs, ev, _, err := r.c.PullAll(cursor)
	require.NoError(r.t, err)
	out := map[syncproto.RowID]map[string]syncproto.Value{}
	for _, c := range cs {
		if out[c.Row] == nil {
			out[c.Row] = map[string]syncproto.Value{}
		}
		out[c.Row][c.Field] = c.Value
	}
	for _, e := range ev {
		delete(out, e.Row)
	}
	return out
}

func newRuleClient(t *testing.T, ts *TS, team string, now func() time.Time) *ruleClient {
	d := ts.NewDevice(t, team)
	return &ruleClient{t: t, c: ts.Connect(t, d), w: NewWriter(d.Replica, now)}
}

func requireRefused(t *testing.T, res []syncproto.Result, code syncproto.Code, says ...string) {
	t.Helper()
	for i, r := range res {
		require.Equal(t, syncproto.ResultRefused, r.Status, "change %d: %+v", i, r)
		require.Equal(t, code, r.Code, "change %d: %+v", i, r)
		// The reason as data (its key and parameters), rendered in English,
		// and the Vietnamese text of agents that read only Reason.
		require.False(t, r.Why.IsZero(), "change %d: the reason travels as data", i)
		all := []string{r.Reason, refusal.Text(r.Code, r.Why, "en"), r.Why.Key}
		for k, v := range r.Why.Params {
			all = append(all, k+"="+v)
		}
		for _, s := range says {
			require.Contains(t, strings.Join(all, " | "), s, "change %d", i)
		}
	}
}

func requireApplied(t *testing.T, res []syncproto.Result) {
	t.Helper()
	for i, r := range res {
		require.Equal(t, syncproto.ResultApplied, r.Status, "change %d: %+v", i, r)
	}
}

// RunScopeRules is issue 13 defect 2: a device places rows only in the
// hamlets of its scope, judged by the row's hamlet after the change, never
// by the Scope label the change carries.
func RunScopeRules(t *testing.T, start StartFunc) {
	now := rulesClock()
	ts := start(t, func(c *server.Config) { c.Now = now })
	a := newRuleClient(t, ts, ts.TeamA, now)
	b := newRuleClient(t, ts, ts.TeamB, now)
	homeA, homeA2, homeB := ts.HamletsA[0], ts.HamletsA[1], ts.HamletsB[0]

	// A new household planted in team B's hamlet under a label of team A's.
	planted := uuid.New()
	res := a.push(
		a.w.Write("households", planted, schema.ScopeField, syncproto.String(homeB), homeA),
		a.w.Write("households", planted, "head_name", syncproto.String("Hộ cài vào"), homeA))
	requireRefused(t, res, syncproto.CodeOutOfScope, homeB)
	require.NotContains(t, b.rows(0), planted, "team B never receives the planted row")

	// A household of team A's, moved by team A's device to team B's
	// hamlet: refused, and the reason says who may move it.
	hh := uuid.New()
	requireApplied(t, a.push(a.w.Household(hh, homeA, "Lê Văn Tâm")...))
	res = a.push(a.w.Write("households", hh, schema.ScopeField, syncproto.String(homeB), homeA))
	requireRefused(t, res, syncproto.CodeOutOfScope, homeB, "team that covers "+homeB, "coordinator")
	require.NotContains(t, b.rows(0), hh)
	other := newRuleClient(t, ts, ts.TeamA, now)
	require.Equal(t, syncproto.String(homeA), other.rows(0)[hh][schema.ScopeField], "the household stayed where it was")

	// Within the team's hamlets it moves.
	requireApplied(t, a.push(a.w.Write("households", hh, schema.ScopeField, syncproto.String(homeA2), homeA)))

	// A visit in team A's hamlet hung on team B's household is refused too.
	hb := uuid.New()
	requireApplied(t, b.push(b.w.Household(hb, homeB, "Trần Thị Mai")...))
	visit := uuid.New()
	res = a.push(
		a.w.Write("visits", visit, schema.ScopeField, syncproto.String(homeA), homeA),
		a.w.Write("visits", visit, "household_id", syncproto.String(hb.String()), homeA),
		a.w.Write("visits", visit, "volunteer_id", syncproto.String(uuid.NewString()), homeA),
		a.w.Write("visits", visit, "visited_on", syncproto.String(schema.Today(now())), homeA))
	requireRefused(t, res, syncproto.CodeOutOfScope, homeB)
	require.NotContains(t, b.rows(0), visit)

	// The receiving team takes a household in: the move its hint names.
	res = b.push(b.w.Write("households", hh, schema.ScopeField, syncproto.String(homeB), homeA2))
	requireApplied(t, res)
	b2 := newRuleClient(t, ts, ts.TeamB, now)
	require.Equal(t, syncproto.String(homeB), b2.rows(0)[hh][schema.ScopeField])
	require.Equal(t, syncproto.String("Lê Văn Tâm"), b2.rows(0)[hh]["head_name"])
}

// RunValidationRules is issue 13 defect 3: the server refuses what the
// agent would refuse (schema.Table.CheckWrite), dates after the server's
// today + 1 day, and report workflow fields written from a volunteer's
// device; a wrong type is named.
func RunValidationRules(t *testing.T, start StartFunc) {
	now := rulesClock()
	ts := start(t, func(c *server.Config) { c.Now = now })
	a := newRuleClient(t, ts, ts.TeamA, now)
	b := newRuleClient(t, ts, ts.TeamA, now)
	h := ts.HamletsA[0]
	vol := uuid.NewString()

	// A household with no head's name.
	headless := uuid.New()
	res := a.push(
		a.w.Write("households", headless, schema.ScopeField, syncproto.String(h), h),
		a.w.Write("households", headless, "phone", syncproto.String("0912345678"), h))
	requireRefused(t, res, syncproto.CodeInvalidValue, "head_name", "tên chủ hộ")

	hh := uuid.New()
	requireApplied(t, a.push(a.w.Household(hh, h, "Nguyễn Văn An")...))
	// An edit may not clear it either.
	requireRefused(t, a.push(a.w.Write("households", hh, "head_name", syncproto.Null(), h)), syncproto.CodeInvalidValue, "required")

	visit := func(day string) []syncproto.Change {
		v := uuid.New()
		return []syncproto.Change{
			a.w.Write("visits", v, schema.ScopeField, syncproto.String(h), h),
			a.w.Write("visits", v, "household_id", syncproto.String(hh.String()), h),
			a.w.Write("visits", v, "volunteer_id", syncproto.String(vol), h),
			a.w.Write("visits", v, "visited_on", syncproto.String(day), h),
		}
	}
	// Today is 2026-06-15 in Vietnam: tomorrow is accepted (a laptop a few
	// hours ahead), the day after is not, nor 2030.
	requireApplied(t, a.push(visit("2026-06-16")...))
	requireRefused(t, a.push(visit("2026-06-17")...), syncproto.CodeInvalidValue, schema.CodeInFuture)
	requireRefused(t, a.push(visit("2030-01-01")...), syncproto.CodeInvalidValue, schema.CodeInFuture)

	// Report workflow fields belong to coordinators.
	report := func(w *Writer, row syncproto.RowID, status string) []syncproto.Change {
		return []syncproto.Change{
			w.Write("field_reports", row, schema.ScopeField, syncproto.String(h), h),
			w.Write("field_reports", row, "volunteer_id", syncproto.String(vol), h),
			w.Write("field_reports", row, "category", syncproto.String(schema.ReportCategories()[0].Code), h),
			w.Write("field_reports", row, "description", syncproto.String("Đèn đường hỏng"), h),
			w.Write("field_reports", row, "status", syncproto.String(status), h),
			w.Write("field_reports", row, "submitted_at", syncproto.Int(now().UnixMilli()), h),
		}
	}
	filed := uuid.New()
	requireApplied(t, a.push(report(a.w, filed, string(schema.StatusSubmitted))...))
	requireRefused(t, a.push(report(a.w, uuid.New(), string(schema.StatusDispatched))...), syncproto.CodeInvalidValue, schema.CodeReadOnly, "status")
	res = a.push(
		a.w.Write("field_reports", filed, "status", syncproto.String(string(schema.StatusDispatched)), h),
		a.w.Write("field_reports", filed, "dispatched_at", syncproto.Int(now().UnixMilli()), h),
		a.w.Write("field_reports", filed, "agency", syncproto.String("UBND xã"), h),
		a.w.Write("field_reports", filed, "description", syncproto.String("Đèn đường hỏng, dây điện rơi"), h))
	requireRefused(t, res[:3], syncproto.CodeInvalidValue, schema.CodeReadOnly, "coordinators")
	requireApplied(t, res[3:])
	// A coordinator moves it on; the volunteer's device sees the outcome.
	tr, err := ts.Server.Transition(context.Background(), filed, server.TransitionRequest{To: string(schema.StatusDispatched), Agency: "UBND xã"})
	require.NoError(t, err)
	require.Equal(t, string(schema.StatusDispatched), tr.To)
	require.Equal(t, syncproto.String(string(schema.StatusDispatched)), b.rows(0)[filed]["status"])
	// An import (an operator's, coordinator's rules) may carry any status.
	imp := NewWriter(uuid.New(), now)
	st, err := ts.Admin.ApplyChanges(context.Background(), imp.Replica, report(imp, uuid.New(), string(schema.StatusResolved)))
	require.NoError(t, err)
	require.Zero(t, st.Refused, st.FirstRefusal)

	// A wrong type is named, not called "not in canonical form".
	for _, tc := range []struct {
		field string
		v     syncproto.Value
		want  string
	}{
		{"members_count", syncproto.String("3"), "(wants int, got string)"},
		{"has_smartphone", syncproto.Int(1), "(wants bool, got int)"},
		{"registered_on", syncproto.Int(20260101), "(wants date, got int)"},
	} {
		res := a.push(a.w.Write("households", hh, tc.field, tc.v, h))
		requireRefused(t, res, syncproto.CodeInvalidValue, tc.want, schema.CodeWrongType)
		require.NotContains(t, res[0].Reason, "canonical")
	}
}
