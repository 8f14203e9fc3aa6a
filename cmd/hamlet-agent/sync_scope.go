package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// scopeSummary tells the volunteer what a change of the team's hamlets did
// to this laptop's data (agent.ScopeChange), the hamlets by name where en
// knows it (a hamlet lost keeps its name, Enrollment.Former).
func (e *env) scopeSummary(sc *agent.ScopeChange, en *agent.Enrollment) {
	if sc == nil {
		return
	}
	if len(sc.Gained) > 0 || sc.Backfilled > 0 || len(sc.Filled) > 0 {
		// A back-fill cut in earlier syncs ends in one that gained
		// nothing itself: it names the hamlets and counts all it brought.
		// Back-fills told together (one ended in a sync cut, another since)
		// name all their hamlets.
		gained := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(sc.Gained), sc.Filled...))))
		if sc.FilledPart {
			// The team lost some of the back-fill's hamlets since: what it
			// brought counts theirs too, so no count is told.
			fmt.Fprintf(e.stdout, e.tr("Tổ được giao thêm ấp/khóm %s: dữ liệu của ấp/khóm này đã được tải về máy (không tải lại dữ liệu cũ).\n",
				"Your team gained hamlet(s) %s: their data is now on this laptop (nothing else was fetched again).\n"),
				hamletList(gained, en))
		} else {
			fmt.Fprintf(e.stdout, e.tr("Tổ được giao thêm ấp/khóm %s: đã tải %s thay đổi của ấp/khóm này (không tải lại dữ liệu cũ).\n",
				"Your team gained hamlet(s) %s: fetched %s changes of them only (nothing else was fetched again).\n"),
				hamletList(gained, en), i18n.Int(int64(max(sc.Backfilled, sc.FilledTotal)), e.lang))
		}
	}
	e.scopeLost(sc, en)
}

// hamletList names hamlets as a volunteer knows them (HamletLabel); a
// hamlet gained is named by the roster fetched after the summary, so it
// may come by code.
func hamletList(codes []string, en *agent.Enrollment) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = en.HamletLabel(c)
	}
	return strings.Join(out, ", ")
}

// scopeLost tells the hamlets the team no longer covers (scopeSummary).
func (e *env) scopeLost(sc *agent.ScopeChange, en *agent.Enrollment) {
	if len(sc.Lost) > 0 {
		if sc.LostPart {
			// The team got some of the hamlets lost with them back since:
			// the rows dropped count theirs too, so no count is told.
			fmt.Fprintf(e.stdout, e.tr("Tổ không còn phụ trách ấp/khóm %s: bản ghi của ấp/khóm này đã được xóa khỏi máy (máy chủ vẫn giữ, không mất gì).\n",
				"Your team no longer covers hamlet(s) %s: their records were removed from this laptop (the server keeps them: nothing is lost).\n"),
				hamletList(sc.Lost, en))
		} else {
			fmt.Fprintf(e.stdout, e.tr("Tổ không còn phụ trách ấp/khóm %s: đã xóa %s bản ghi của ấp/khóm này khỏi máy (máy chủ vẫn giữ, không mất gì).\n",
				"Your team no longer covers hamlet(s) %s: removed %s of their records from this laptop (the server keeps them: nothing is lost).\n"),
				hamletList(sc.Lost, en), i18n.Int(int64(sc.Dropped), e.lang))
		}
		if sc.KeptEdits > 0 {
			fmt.Fprintf(e.stdout, e.tr("%s thay đổi của bạn ở ấp/khóm đó vẫn được giữ: xem hamlet-agent rejected.\n",
				"%s of your changes there are kept: see hamlet-agent rejected.\n"), i18n.Int(int64(sc.KeptEdits), e.lang))
		}
	}
}
