package schema_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPurity holds the rule in doc.go: no database, no network, no wall
// clock in the package (tests may use them). Its migrations are data of
// internal/migration's type, which reaches no database either.
func TestPurity(t *testing.T) {
	forbidden := []string{
		"database/sql", "database/sql/driver", "net", "net/http", "os/exec",
		"modernc.org/sqlite", "github.com/mattn/go-sqlite3", "github.com/jackc/pgx/v5", "github.com/lib/pq",
		"github.com/google/uuid", // imports net
	}

	if _, err := exec.LookPath("go"); err == nil {
		out, err := exec.Command("go", "list", "-deps", ".").Output()
		require.NoError(t, err)
		deps := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			deps[d] = true
		}
		for _, f := range forbidden {
			require.False(t, deps[f], "schema must not depend on %s, even indirectly", f)
		}
	} else {
		t.Log("go tool not found: checking direct imports only")
	}

	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, name, src, 0)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			for _, bad := range forbidden {
				require.NotEqual(t, `"`+bad+`"`, imp.Path.Value, "%s imports %s", name, bad)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "time" {
					switch sel.Sel.Name {
					case "Now", "Since", "Until":
						t.Errorf("%s: time.%s reads the wall clock; take the time as a parameter", fset.Position(sel.Pos()), sel.Sel.Name)
					}
				}
			}
			return true
		})
	}
}
