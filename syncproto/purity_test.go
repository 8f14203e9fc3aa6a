package syncproto

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPurity holds the rule in doc.go: syncproto imports no database, no
// network package and never reads the wall clock itself.
//
// One exception is explicit: github.com/google/uuid (a package the owner
// chose for ids) imports net to read hardware addresses for version-1 UUIDs,
// which syncproto never makes. Everything else syncproto reaches must be free
// of net, and syncproto's own files must not import it.
func TestPurity(t *testing.T) {
	forbidden := []string{"net", "net/http", "os", "os/exec", "database/sql", "syscall",
		"modernc.org/sqlite", "github.com/gorilla/websocket", "github.com/jackc/pgx/v5"}

	var direct []string
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			require.NotContains(t, forbidden, p, "%s imports %s", name, p)
			direct = append(direct, p)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "time" {
					require.NotContains(t, []string{"Now", "Since", "Until", "Sleep", "After", "Tick", "NewTimer", "NewTicker"},
						sel.Sel.Name, "%s reads the wall clock (time.%s): take a clock function instead", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}

	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found: direct imports checked, transitive ones not")
	}
	slices.Sort(direct)
	direct = slices.Compact(direct)
	direct = slices.DeleteFunc(direct, func(p string) bool { return p == "github.com/google/uuid" })
	out, err := exec.Command(goTool, append([]string{"list", "-deps"}, direct...)...).Output()
	require.NoError(t, err)
	// fmt and time reach os and syscall; what must never be reached is a
	// network or a database.
	transitive := []string{"net", "net/http", "database/sql", "modernc.org/sqlite", "github.com/gorilla/websocket", "github.com/jackc/pgx/v5"}
	for _, dep := range strings.Fields(string(out)) {
		require.NotContains(t, transitive, dep, "syncproto reaches %s through one of its imports", dep)
	}
}
