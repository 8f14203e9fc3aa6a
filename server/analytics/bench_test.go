package analytics

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/schema"
)

// The province of the performance figures: 300,000 households, 1,000,000
// tutoring records, 50,000 reports. These measure the model's answer time;
// server/analytics' SQL source adds the refresh query (see the server's
// BenchmarkAPICoverage for the whole HTTP call on SQLite).
func benchProvince(b *testing.B) *Index {
	b.Helper()
	src, _ := province(b, camau.Province(), time.Now())
	x := New(src, nil)
	if err := x.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	return x
}

func BenchmarkProvinceQueries(b *testing.B) {
	x := benchProvince(b)
	runtime.GC()
	ctx := context.Background()
	year := Period{From: day0("2026-01-01"), To: day0("2026-11-30")}
	now := day0("2026-12-01")
	b.Run("coverage/province", func(b *testing.B) {
		for b.Loop() {
			if _, err := x.Coverage(ctx, schema.ProvinceCodeCaMau, year); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("coverage/commune", func(b *testing.B) {
		for b.Loop() {
			if _, err := x.Coverage(ctx, "32248", year); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("team-stats/province/week", func(b *testing.B) {
		for b.Loop() {
			if _, err := x.TeamStats(ctx, schema.ProvinceCodeCaMau, year, Weekly, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reports/province", func(b *testing.B) {
		for b.Loop() {
			if _, err := x.Reports(ctx, schema.ProvinceCodeCaMau, ReportFilter{Status: "submitted"}, RoleProvincial, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
