package main

import (
	"fmt"
	"strings"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// scopeSummary tells the volunteer what a change of the team's hamlets did
// to this laptop's data (agent.ScopeChange).
func (e *env) scopeSummary(sc *agent.ScopeChange) {
	if sc == nil {
		return
	}
	if len(sc.Gained) > 0 || sc.Backfilled > 0 || len(sc.Filled) > 0 {
		// A back-fill cut in earlier syncs ends in one that gained
		// nothing itself: it names the hamlets and counts all it brought.
		gained, n := sc.Gained, sc.Backfilled
		if len(gained) == 0 {
			gained = sc.Filled
		}
		n = max(n, sc.FilledTotal)
		fmt.Fprintf(e.stdout, e.tr("Tổ được giao thêm ấp/khóm %s: đã tải %s thay đổi của ấp/khóm này (không tải lại dữ liệu cũ).\n",
			"Your team gained hamlet(s) %s: fetched %s changes of them only (nothing else was fetched again).\n"),
			strings.Join(gained, ", "), i18n.Int(int64(n), e.lang))
	}
	if len(sc.Lost) > 0 {
		fmt.Fprintf(e.stdout, e.tr("Tổ không còn phụ trách ấp/khóm %s: đã xóa %s bản ghi của ấp/khóm này khỏi máy.\n",
			"Your team no longer covers hamlet(s) %s: removed %s of their records from this laptop.\n"),
			strings.Join(sc.Lost, ", "), i18n.Int(int64(sc.Dropped), e.lang))
		if sc.KeptEdits > 0 {
			fmt.Fprintf(e.stdout, e.tr("%s thay đổi của bạn ở ấp/khóm đó vẫn được giữ: xem hamlet-agent rejected.\n",
				"%s of your changes there are kept: see hamlet-agent rejected.\n"), i18n.Int(int64(sc.KeptEdits), e.lang))
		}
	}
}
