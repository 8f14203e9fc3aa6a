package schema_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
)

func TestCheckWrite(t *testing.T) {
	const today = "2026-06-15"
	vol, coord := schema.WriterVolunteer, schema.WriterCoordinator
	// 2026-06-17 00:00 in Vietnam: the first instant after tomorrow.
	afterTomorrow := time.Date(2026, 6, 16, 17, 0, 0, 0, time.UTC).UnixMilli()
	report := func(extra map[string]any) map[string]any {
		m := map[string]any{"hamlet_code": "32002-01", "volunteer_id": "5f0c6d2e-8a7b-4c1d-9e2f-3a4b5c6d7e8f",
			"category": schema.ReportCategories()[0].Code, "description": "Đèn đường hỏng"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		table  string
		w      schema.Write
		code   string // "" = accepted
		field  string
		forVol string // Message("vi") contains
	}{
		{"new household without head", "households", schema.Write{Create: true, Fields: map[string]any{"hamlet_code": "32002-01"}, Writer: vol, Today: today},
			schema.CodeRequired, "head_name", "Chưa nhập tên chủ hộ"},
		{"new household", "households", schema.Write{Create: true, Fields: map[string]any{"hamlet_code": "32002-01", "head_name": "An"}, Writer: vol, Today: today}, "", "", ""},
		{"deleted at once: only its hamlet", "households", schema.Write{Create: true, Fields: map[string]any{"hamlet_code": "32002-01", "_deleted": true}, Writer: vol, Today: today}, "", "", ""},
		{"edit clears the head", "households", schema.Write{Fields: map[string]any{"head_name": nil}, Writer: vol, Today: today}, schema.CodeRequired, "head_name", ""},
		{"edit of some fields only", "households", schema.Write{Fields: map[string]any{"phone": "0912345678"}, Writer: vol, Today: today}, "", "", ""},
		{"visit tomorrow", "visits", schema.Write{Fields: map[string]any{"visited_on": "2026-06-16"}, Writer: vol, Today: today}, "", "", ""},
		{"visit after tomorrow", "visits", schema.Write{Fields: map[string]any{"visited_on": "2026-06-17"}, Writer: vol, Today: today},
			schema.CodeInFuture, "visited_on", "Ngày thăm hộ ở tương lai"},
		{"visit in 2030", "visits", schema.Write{Fields: map[string]any{"visited_on": "2030-01-01"}, Writer: coord, Today: today}, schema.CodeInFuture, "visited_on", ""},
		{"no today, no bound", "visits", schema.Write{Fields: map[string]any{"visited_on": "2030-01-01"}, Writer: vol}, "", "", ""},
		{"time before the end of tomorrow", "field_reports", schema.Write{Fields: map[string]any{"occurred_at": afterTomorrow - 1}, Writer: vol, Today: today}, "", "", ""},
		{"time after tomorrow", "field_reports", schema.Write{Fields: map[string]any{"occurred_at": afterTomorrow}, Writer: vol, Today: today}, schema.CodeInFuture, "occurred_at", ""},
		{"volunteer files a report", "field_reports", schema.Write{Create: true, Fields: report(map[string]any{"status": "submitted"}), Writer: vol, Today: today}, "", "", ""},
		{"volunteer files it dispatched", "field_reports", schema.Write{Create: true, Fields: report(map[string]any{"status": "dispatched"}), Writer: vol, Today: today},
			schema.CodeReadOnly, "status", "cán bộ điều phối phản ánh"},
		{"volunteer sets the status", "field_reports", schema.Write{Fields: map[string]any{"status": "submitted"}, Writer: vol, Today: today}, schema.CodeReadOnly, "status", ""},
		{"volunteer sets the dispatch time", "field_reports", schema.Write{Fields: map[string]any{"dispatched_at": afterTomorrow - 1}, Writer: vol, Today: today}, schema.CodeReadOnly, "dispatched_at", ""},
		{"volunteer names the agency", "field_reports", schema.Write{Create: true, Fields: report(map[string]any{"agency": "UBND"}), Writer: vol, Today: today}, schema.CodeReadOnly, "agency", ""},
		{"volunteer rates it", "field_reports", schema.Write{Fields: map[string]any{"satisfaction": int64(5)}, Writer: vol, Today: today}, "", "", ""},
		{"coordinator dispatches", "field_reports", schema.Write{Fields: map[string]any{"status": "dispatched", "agency": "UBND", "dispatched_at": afterTomorrow - 1}, Writer: coord, Today: today}, "", "", ""},
		{"wrong type names the type", "households", schema.Write{Fields: map[string]any{"members_count": "ba"}, Writer: vol, Today: today},
			schema.CodeWrongType, "members_count", "phải là số nguyên"},
		{"unknown field", "households", schema.Write{Fields: map[string]any{"x": 1}, Writer: vol, Today: today}, schema.CodeUnknownField, "x", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := table(t, tc.table).CheckWrite(tc.w)
			if tc.code == "" {
				require.NoError(t, err)
				return
			}
			requireCode(t, err, tc.code)
			ve := err.(*schema.ValidationError)
			require.Equal(t, tc.field, ve.Field)
			require.Contains(t, ve.Message("vi"), tc.forVol)
			require.NotEmpty(t, ve.Message("en"))
		})
	}
}

func TestToday(t *testing.T) {
	require.Equal(t, "2026-06-16", schema.Today(time.Date(2026, 6, 15, 17, 0, 0, 0, time.UTC)), "midnight in Vietnam is 17:00 UTC")
	require.Equal(t, "2026-06-15", schema.Today(time.Date(2026, 6, 15, 16, 59, 0, 0, time.UTC)))
}
