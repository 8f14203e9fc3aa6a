package agent

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDropUnreadNotes: repair leaves out the notes that do not read, says
// which news for the volunteer was among them, and keeps the rest.
func TestDropUnreadNotes(t *testing.T) {
	t.Parallel()
	sv := &salvaged{meta: map[string]any{
		"enrollment":           `{"server": "http://x", "sco`,
		metaScopeHeld:          `["32002-0`,
		carriedPartsFrom + "1": `{"a":`,
		metaFormerIDs:          `[]`,
		metaNotices:            `{"last": 3, "list": [`,
		metaLostUntold:         `{"hamlets": ["32002-01"], "dropped": 4}`,
		metaForkUntold:         []byte(`{"fork"`),
		"seq":                  int64(7),
	}}
	rep := &RepairReport{}
	dropUnreadNotes(sv, rep)
	require.Equal(t, []string{carriedPartsFrom + "1", metaScopeHeld}, rep.UnreadNotes)
	require.Equal(t, []UntoldNote{UntoldFork, UntoldNotices}, rep.Untold)
	require.NotContains(t, sv.meta, "enrollment")
	require.Contains(t, sv.meta, metaFormerIDs)
	require.Contains(t, sv.meta, metaLostUntold)
	require.Contains(t, sv.meta, "seq")
}

// TestDropUnreadNumberNotes: a number note that is not a number is left
// out, with the notes it means something only with; a number is kept.
func TestDropUnreadNumberNotes(t *testing.T) {
	t.Parallel()
	sv := &salvaged{meta: map[string]any{
		"offset_ms":      "17x",
		"offset_wall_ms": int64(1733000000000),
		"sent_seq":       "-3",
		"seq":            int64(7),
		"clock_last":     "12",
		metaForkStart:    "",
	}}
	rep := &RepairReport{}
	dropUnreadNotes(sv, rep)
	require.Equal(t, []string{"offset_ms", "sent_seq"}, rep.UnreadNotes)
	require.NotContains(t, sv.meta, "offset_wall_ms", "half a measurement is none")
	require.Contains(t, sv.meta, "seq")
	require.Contains(t, sv.meta, "clock_last")
	require.Contains(t, sv.meta, metaForkStart, "none is not damage")
}

// TestNumberNotesListed: every note read as a number (metaInt, metaUint,
// and noteInt, noteUint of a text read with others)
// is one NotesCheck checks and repair leaves out when it does not read:
// a note missing here would have the commands refuse the file and repair
// say it is sound.
func TestNumberNotesListed(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	consts := map[string]string{}
	var keys []ast.Expr
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[id.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "metaInt" || sel.Sel.Name == "metaUint") && len(n.Args) > 0 {
					keys = append(keys, n.Args[len(n.Args)-1])
				}
				// The text of a note read with others (metas), read as a
				// number: the key comes first.
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "noteInt" || sel.Sel.Name == "noteUint") && len(n.Args) == 2 {
					keys = append(keys, n.Args[0])
				}
			}
			return true
		})
	}
	require.NotEmpty(t, keys)
	for _, k := range keys {
		var key string
		switch k := k.(type) {
		case *ast.BasicLit:
			key, _ = strconv.Unquote(k.Value)
		case *ast.Ident:
			if k.Name == "key" { // txn.metaInt passing its key on
				continue
			}
			key = consts[k.Name]
		case *ast.SelectorExpr: // the chunk limits (clonelimit.go)
			continue
		}
		require.NotEmpty(t, key, "key at %s", fset.Position(k.Pos()))
		require.Contains(t, numberNotes, key, "read as a number at %s", fset.Position(k.Pos()))
	}
	for _, k := range []string{metaCloneLimit, metaPullLimit} {
		require.Contains(t, numberNotes, k)
	}
}
