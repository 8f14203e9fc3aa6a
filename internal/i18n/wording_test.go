package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// wordingDirs are the packages whose Vietnamese text people read: the two
// CLIs, the agent's and the protocol's messages, the schema's labels and
// validation messages, the exports. (The dashboard's pages join the list
// when they move to their own package.)
var wordingDirs = []string{"cmd/hamlet-agent", "cmd/hamlet-server", "agent", "syncproto", "schema", "server/export"}

// TestNoAvoidedWording: the Vietnamese message catalogue of the CLIs and
// exports (every Vietnamese string literal of their code) holds none of
// the wordings the glossary replaced (Avoid): one term per concept,
// official names in full, plain words for volunteers (issue 21, items
// 20-23).
func TestNoAvoidedWording(t *testing.T) {
	root := filepath.Join("..", "..")
	var bad []string
	for _, dir := range wordingDirs {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
		require.NoError(t, err)
		require.NotEmpty(t, files, dir)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			require.NoError(t, err)
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, f, src, parser.ParseComments)
			require.NoError(t, err)
			// A line may keep an old wording on purpose (the name earlier
			// releases gave data) when it says so: //wording:allow.
			allowed := map[int]bool{}
			for _, cg := range file.Comments {
				for _, c := range cg.List {
					if strings.HasPrefix(c.Text, "//wording:allow") {
						allowed[fset.Position(c.Pos()).Line] = true
					}
				}
			}
			ast.Inspect(file, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil || !HasVietnamese(s) || allowed[fset.Position(lit.Pos()).Line] {
					return true
				}
				for _, a := range Find(s) {
					bad = append(bad, fset.Position(lit.Pos()).String()+": "+strconv.Quote(a.Term)+" → "+a.Use)
				}
				return true
			})
		}
	}
	require.Empty(t, bad, "wordings the glossary replaced:\n%s", strings.Join(bad, "\n"))
}
