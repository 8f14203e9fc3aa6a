package syncproto

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

// Every Code constant of the package is in Codes (it has a hint), so a new
// code cannot miss its conformance vector or its hint.
func TestCodesListsEveryCodeConstant(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var consts []Code
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				return true
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				require.True(t, ok, "%s: a Code constant that is not a string literal", fset.Position(v.Pos()))
				s, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				consts = append(consts, Code(s))
			}
			return true
		})
	}
	require.NotEmpty(t, consts)
	require.ElementsMatch(t, consts, Codes())
}
