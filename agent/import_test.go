package agent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// householdSheet is a household list as a team keeps it: a title, a
// header with Vietnamese names, n rows.
func householdSheet(hamletName string, n int) *agent.ImportSheet {
	s := &agent.ImportSheet{Rows: [][]string{
		{"DANH SÁCH HỘ GIA ĐÌNH"},
		{},
		{"STT", "Họ tên chủ hộ", "Ấp", "Địa chỉ", "Số điện thoại", "Số nhân khẩu", "Có điện thoại thông minh", "Đã cài VNeID", "Ngày đăng ký"},
	}}
	for i := 0; i < n; i++ {
		s.Rows = append(s.Rows, []string{fmt.Sprint(i + 1), fmt.Sprintf("Nguyễn Văn Hộ %d", i), hamletName,
			fmt.Sprintf("Số %d, tổ %d", i, i%20), fmt.Sprintf("09%08d", i), fmt.Sprint(1 + i%6), "có", "không", "15/07/2025"})
	}
	return s
}

// TestImportSyncsLikeAnyChange: imported households reach the server at
// the next sync and another laptop of the team clones them, field for
// field; the replica's invariants hold (agenttest checks them).
func TestImportSyncsLikeAnyChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	e, err := a.Enrollment(ctx)
	require.NoError(t, err)
	name := e.Scope[1].Name
	require.NotEmpty(t, name)

	res, err := a.Import(ctx, householdSheet(name, 300), agent.ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, 300, res.Imported)
	require.Equal(t, 3, res.HeaderLine)
	pending, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, res.Changes, pending)
	s := realSync(t, a, ts, ta)
	require.Equal(t, res.Changes, s.Pushed)
	require.Zero(t, s.Rejected)

	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	hs, err := b.Search(ctx, "ho 17", agent.ListOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, hs)
	h := hs[0]
	require.Equal(t, e.Scope[1].Code, h.Hamlet, "the hamlet's name read as its code")
	require.Equal(t, "0900000017", h.Str("phone"))
	require.Equal(t, "2025-07-15", h.Str("registered_on"))
	require.Equal(t, true, h.Fields["has_smartphone"])
	require.Equal(t, false, h.Fields["vneid_installed"])
	require.Equal(t, int64(6), h.Fields["members_count"])

	// The same list again: nothing new.
	res, err = a.Import(ctx, householdSheet(name, 300), agent.ImportOptions{})
	require.NoError(t, err)
	require.Zero(t, res.Imported)
	require.Len(t, res.Already, 300)
}

// TestImportIsAtomic: a refused row imports nothing, whichever row it is;
// SkipBad imports all the others in one go.
func TestImportIsAtomic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs := newFakeServer(t, hamletA)
	// The rows are written while the next are checked, 256 at a time: a
	// row refused after two batches went to the writer still imports
	// nothing.
	for _, bad := range []int{0, 150, 599} {
		t.Run(fmt.Sprint(bad), func(t *testing.T) {
			r := enrolled(t, fs.srv.URL)
			sh := householdSheet(hamletA, 600)
			sh.Rows[3+bad][5] = "mười" // members_count
			res, err := r.Import(ctx, sh, agent.ImportOptions{})
			var re *agent.ImportRefusedError
			require.ErrorAs(t, err, &re)
			require.Len(t, res.Refused, 1)
			require.Equal(t, 4+bad, res.Refused[0].Line)
			require.Equal(t, "Số nhân khẩu", res.Refused[0].Column)
			n, err := r.Pending(ctx)
			require.NoError(t, err)
			require.Zero(t, n)
			hs, err := r.List(ctx, "households", agent.ListOptions{})
			require.NoError(t, err)
			require.Empty(t, hs)

			res, err = r.Import(ctx, sh, agent.ImportOptions{SkipBad: true})
			require.NoError(t, err)
			require.Equal(t, 599, res.Imported)
			hs, err = r.List(ctx, "households", agent.ListOptions{Limit: 1000})
			require.NoError(t, err)
			require.Len(t, hs, 599)
		})
	}
}

// TestImportHeaders: the names teams give their columns.
func TestImportHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header []string
		want   []string // field per column, "" for left out
	}{
		{[]string{"STT", "Họ và tên chủ hộ (*)", "SĐT", "Số khẩu", "Ghi chú"}, []string{"", "head_name", "phone", "members_count", "notes"}},
		{[]string{"TT", "Chủ hộ", "Số ĐT:", "Ấp/Khóm", "VNeID mức 2"}, []string{"", "head_name", "phone", "hamlet_code", "vneid_level2"}},
		{[]string{"head_name", "address", "has_smartphone"}, []string{"head_name", "address", "has_smartphone"}},
		{[]string{"Head of household's name", "Phone number", "Something else"}, []string{"head_name", "phone", ""}},
		{[]string{"HỌ TÊN CHỦ HỘ", "ĐỊA CHỈ", "THANH TOÁN KHÔNG DÙNG TIỀN MẶT"}, []string{"head_name", "address", "uses_cashless"}},
	}
	fs := newFakeServer(t, hamletA)
	r := enrolled(t, fs.srv.URL)
	for _, tt := range tests {
		t.Run(tt.header[1], func(t *testing.T) {
			res, err := r.Import(context.Background(), &agent.ImportSheet{Rows: [][]string{tt.header}}, agent.ImportOptions{DryRun: true})
			require.NoError(t, err)
			var got []string
			for _, c := range res.Columns {
				got = append(got, c.Field)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// BenchmarkImport26000: 26,000 households from a sheet into an enrolled,
// empty replica: the whole Import (mapping, checks, one transaction).
//
//	go test ./agent -run '^$' -bench Import26000 -benchtime 3x
func BenchmarkImport26000(b *testing.B) {
	fs := newFakeServer(b, hamletA)
	sh := householdSheet(hamletA, 26000)
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := agenttest.New(b)
		_, _, err := r.Enroll(context.Background(), fs.srv.URL, fakeGoodCode, "bench")
		require.NoError(b, err)
		b.StartTimer()
		c0 := processCPU()
		res, err := r.Import(context.Background(), sh, agent.ImportOptions{})
		cpu += processCPU() - c0
		require.NoError(b, err)
		require.Equal(b, 26000, res.Imported)
	}
	// CPU time (user + system) of the process over the imports: steadier
	// than wall time on a shared machine.
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkSearch20000: a search of the CLI (hamlet-agent household list
// with words) over 20,000 imported households: two words, which every
// household's folded search text is matched against.
//
//	go test ./agent -run '^$' -bench Search20000
func BenchmarkSearch20000(b *testing.B) {
	fs := newFakeServer(b, hamletA)
	r := agenttest.New(b)
	_, _, err := r.Enroll(context.Background(), fs.srv.URL, fakeGoodCode, "bench")
	require.NoError(b, err)
	res, err := r.Import(context.Background(), householdSheet(hamletA, 20000), agent.ImportOptions{})
	require.NoError(b, err)
	require.Equal(b, 20000, res.Imported)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hs, err := r.Search(context.Background(), "ho 1999", agent.ListOptions{})
		require.NoError(b, err)
		require.NotEmpty(b, hs)
	}
}
