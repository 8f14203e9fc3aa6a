package sqlread

import (
	"strconv"
	"strings"
)

// Rebind turns the '?' placeholders of a query written for SQLite into
// PostgreSQL's $1, $2, ... ('?' inside a quoted literal is left alone).
func Rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		switch ch := query[i]; {
		case ch == '\'':
			quoted = !quoted
			b.WriteByte(ch)
		case ch == '?' && !quoted:
			n++
			b.WriteString("$" + strconv.Itoa(n))
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}
