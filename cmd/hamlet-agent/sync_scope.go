package main

import (
	"fmt"
	"strings"

	"github.com/hamlet-vn/hamlet/agent"
)

// scopeSummary tells the volunteer what a change of the team's hamlets did
// to this laptop's data (agent.ScopeChange).
func (e *env) scopeSummary(sc *agent.ScopeChange) {
	if sc == nil {
		return
	}
	if len(sc.Gained) > 0 || sc.Backfilled > 0 {
		// A back-fill cut in earlier syncs ends in one that gained
		// nothing itself: it names the hamlets and counts all it brought.
		gained, n := sc.Gained, sc.Backfilled
		if len(gained) == 0 {
			gained = sc.Filled
		}
		n = max(n, sc.FilledTotal)
		fmt.Fprintf(e.stdout, e.tr("Tổ được giao thêm ấp/khóm %s: đã tải %d thay đổi của ấp/khóm này (không tải lại dữ liệu cũ).\n",
			"Your team gained hamlet(s) %s: fetched %d changes of them only (nothing else was fetched again).\n"),
			strings.Join(gained, ", "), n)
	}
	if len(sc.Lost) > 0 {
		fmt.Fprintf(e.stdout, e.tr("Tổ không còn phụ trách ấp/khóm %s: đã xóa %d bản ghi của ấp/khóm này khỏi máy.\n",
			"Your team no longer covers hamlet(s) %s: removed %d of their records from this laptop.\n"),
			strings.Join(sc.Lost, ", "), sc.Dropped)
		if sc.KeptEdits > 0 {
			fmt.Fprintf(e.stdout, e.tr("%d thay đổi của bạn ở ấp/khóm đó vẫn được giữ: xem hamlet-agent rejected.\n",
				"%d of your changes there are kept: see hamlet-agent rejected.\n"), sc.KeptEdits)
		}
	}
}
