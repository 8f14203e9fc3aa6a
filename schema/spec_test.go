package schema

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A new field type or text format cannot reach the spec without its wire
// form: SpecMarkdown would print an empty cell.
func TestSpecDescribesEveryTypeAndFormat(t *testing.T) {
	n := 0
	for ft := FieldType(1); ft.String() != typeNames[0]; ft++ {
		w, ok := wireForms[ft]
		require.True(t, ok, "type %s has no wire form in spec.go", ft)
		require.NotEmpty(t, w[0])
		require.NotEmpty(t, w[1])
		n++
	}
	require.Equal(t, len(typeNames)-1, n)
	require.Len(t, wireForms, n)
	for _, tb := range SyncedTables() {
		for _, f := range tb.Fields {
			if f.format != formatNone {
				require.Contains(t, formatRules, f.format, "%s.%s", tb.Name, f.Name)
			}
		}
	}
}
