package loader_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/examples/camau/loader"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/httpapp"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// provinceTeam is the team of the benchmark's provincial staff device: it
// covers every hamlet of the province.
const (
	provinceTeam   = "6b1c0d9e-3f2a-4c55-9e61-70726f76696e"
	provinceMember = "6b1c0d9e-3f2a-4c55-9e61-6d656d626572"
)

// BenchmarkProvinceClone is issue 9's part 4 figure, at issue 20's size: a
// provincial staff laptop's first clone of the whole province raised to 2
// million rows (camau.Province2M: about 360,000 households, 1,200,000
// tutoring records, the visits and reports around them) by
// snapshot over loopback, with hamlet-agent run as a separate process so
// its peak RSS is its own (rusage Maxrss). The server runs in this process
// on the province cached under os.TempDir (loader.CachedDataDir: built
// through the server's apply code in large batches, no WebSocket; the
// first run takes about 15 minutes, later ones reuse it).
//
//	make bench-hard   (go test -run '^$' -bench BenchmarkProvinceClone -benchtime 1x -count 3 ./examples/camau/loader/)
func BenchmarkProvinceClone(b *testing.B) {
	ctx := context.Background()
	dir, res, err := loader.CachedDataDir(ctx, camau.Province2M(), false, server.Config{Logger: servertest.Logger()}, openNormal)
	require.NoError(b, err)
	member := ensureProvinceTeam(b, dir)
	srv, err := servertest.Open(ctx, dir, "NORMAL", server.Config{Logger: servertest.Logger(), GCInterval: -1})
	require.NoError(b, err)
	b.Cleanup(func() { srv.Close() })
	a := srv.Admin()
	hs := httptest.NewServer(httpapp.Handler(srv))
	b.Cleanup(hs.Close)

	bin := filepath.Join(b.TempDir(), "hamlet-agent")
	build := exec.Command("go", "build", "-o", bin, "github.com/hamlet-vn/hamlet/cmd/hamlet-agent")
	build.Stderr = os.Stderr
	require.NoError(b, build.Run(), "build hamlet-agent")
	rows := res.Counts.Households + res.Counts.Visits + res.Counts.Tutoring + res.Counts.Reports
	b.Logf("province: %d households, %d visits, %d tutoring records, %d reports (%d rows); agent %s/%s",
		res.Counts.Households, res.Counts.Visits, res.Counts.Tutoring, res.Counts.Reports, rows, runtime.GOOS, runtime.GOARCH)

	b.ResetTimer() // the province's first load is not the clone
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		agentDir := b.TempDir()
		code, _, err := a.IssueCode(ctx, member, time.Hour)
		require.NoError(b, err)
		run(b, bin, "enroll", "--data-dir", agentDir, "--server", hs.URL, "--code", code, "--label", "bench", "--lang", "en")
		b.StartTimer()
		var ru0 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		start := time.Now()
		cmd := exec.Command(bin, "sync", "--data-dir", agentDir, "--json")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		require.NoError(b, cmd.Run(), "sync: %s", errb.String())
		wall := time.Since(start)
		b.StopTimer()
		var ru1 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		// CPU time says what a quiet machine would do: this one is shared.
		serverCPU := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
		agentCPU := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		var sum struct {
			Cloned        int   `json:"cloned"`
			Pulled        int   `json:"pulled"`
			BytesReceived int64 `json:"bytes_received"`
			BytesSent     int64 `json:"bytes_sent"`
		}
		require.NoError(b, json.Unmarshal(out.Bytes(), &sum), out.String())
		require.Equal(b, rows, sum.Cloned, "every row of the province cloned")
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
		b.ReportMetric(wall.Seconds(), "s/clone")
		b.ReportMetric(float64(sum.Cloned)/wall.Seconds(), "rows/s")
		b.ReportMetric(float64(rss)/1024, "MB-agent-peak-rss")
		b.ReportMetric(float64(sum.BytesReceived+sum.BytesSent)/(1<<20), "MB-wire")
		b.ReportMetric(agentCPU.Seconds(), "agent-cpu-s")
		b.ReportMetric(serverCPU.Seconds(), "server-cpu-s")
		b.Logf("clone: %d rows in %s (%.0f rows/s), agent peak RSS %.0f MB, %.1f MB on the wire, CPU agent %s server %s",
			sum.Cloned, wall.Round(time.Millisecond), float64(sum.Cloned)/wall.Seconds(), float64(rss)/1024,
			float64(sum.BytesReceived+sum.BytesSent)/(1<<20), agentCPU.Round(time.Second), serverCPU.Round(time.Second))
		_ = os.RemoveAll(agentDir)
		b.StartTimer()
	}
}

func run(b *testing.B, bin string, args ...string) {
	b.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	require.NoError(b, err, "%s %v: %s", bin, args, out)
}

// ensureProvinceTeam adds, once per cached province, a team holding every
// hamlet of the province and a member in it, and returns the member's id.
// It writes them at the store level: the admin commands give a team only
// its own commune's hamlets, and a provincial staff scope is wider.
func ensureProvinceTeam(b *testing.B, dir string) string {
	b.Helper()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, sqlitestore.DBFile), sqlitestore.Options{Synchronous: "NORMAL"})
	require.NoError(b, err)
	defer st.Close()
	teams, err := st.Teams(ctx)
	require.NoError(b, err)
	for _, t := range teams {
		if t.ID == provinceTeam {
			return provinceMember
		}
	}
	hamlets, err := st.Units(ctx, schema.LevelHamlet, "")
	require.NoError(b, err)
	t := server.Team{ID: provinceTeam, CommuneCode: hamlets[0].ParentCode, Name: "Cán bộ tỉnh (benchmark)"}
	for _, h := range hamlets {
		t.Hamlets = append(t.Hamlets, h.Code)
	}
	require.NoError(b, st.CreateTeam(ctx, t))
	require.NoError(b, st.AddMember(ctx, server.Member{ID: provinceMember, TeamID: provinceTeam, Name: "Cán bộ tỉnh", Role: string(schema.RoleMember)}))
	return provinceMember
}
