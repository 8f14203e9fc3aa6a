package i18n

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// wordingDirs are the packages whose Vietnamese text people read: the two
// CLIs, the agent's and the protocol's messages, the schema's labels and
// validation messages, the exports, the dashboard's pages and the API's
// error hints (an error page shows them).
var wordingDirs = []string{"cmd/hamlet-agent", "cmd/hamlet-server", "agent", "syncproto", "schema", "server/export",
	"server/dashboard", "server/api"}

// wordingTemplates are the dashboard's page templates: their text is read
// as it is.
const wordingTemplates = "server/dashboard/web/templates/*.html"

var templateMarkup = regexp.MustCompile(`{{.*?}}|<[^>]*>`)

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
	templates, err := filepath.Glob(filepath.Join(root, wordingTemplates))
	require.NoError(t, err)
	require.NotEmpty(t, templates)
	for _, f := range templates {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, line := range strings.Split(string(b), "\n") {
			// The text between the actions and tags: "{{$p.T "online"}}"
			// names a message, it is not one.
			line = templateMarkup.ReplaceAllString(line, " ")
			for _, a := range Find(line) {
				bad = append(bad, fmt.Sprintf("%s:%d: %q → %s", f, i+1, a.Term, a.Use))
			}
		}
	}
	require.Empty(t, bad, "wordings the glossary replaced:\n%s", strings.Join(bad, "\n"))
}
