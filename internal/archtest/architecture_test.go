package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// declared is every top-level name of the module's packages (tests aside),
// by package name: "Func", "Type", "Var", and "Type.Method" for methods.
func declared(t *testing.T, g graph) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	for _, p := range g {
		names := out[p.Name]
		if names == nil {
			names = map[string]bool{}
			out[p.Name] = names
		}
		for _, file := range p.GoFiles {
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, file), nil, parser.SkipObjectResolution)
			require.NoError(t, err)
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Recv == nil {
						names[d.Name.Name] = true
						continue
					}
					typ := d.Recv.List[0].Type
					if s, ok := typ.(*ast.StarExpr); ok {
						typ = s.X
					}
					if ix, ok := typ.(*ast.IndexExpr); ok {
						typ = ix.X
					}
					if id, ok := typ.(*ast.Ident); ok {
						names[id.Name+"."+d.Name.Name] = true
					}
				case *ast.GenDecl:
					for _, s := range d.Specs {
						switch s := s.(type) {
						case *ast.TypeSpec:
							names[s.Name.Name] = true
						case *ast.ValueSpec:
							for _, n := range s.Names {
								names[n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	return out
}

// codeName is a name in backticks in the form package.Name or
// package.Type.Method ("server.Server.commit", "syncproto.Stamp").
var codeName = regexp.MustCompile("`([a-z][a-z0-9]*)\\.([A-Za-z_]\\w*)(?:\\.([A-Za-z_]\\w*))?`")

// unknownNames lists the names of doc that no package declares.
func unknownNames(doc string, decl map[string]map[string]bool) (checked int, unknown []string) {
	for _, m := range codeName.FindAllStringSubmatch(doc, -1) {
		pkg, name := m[1], m[2]
		if slices.Contains([]string{"go", "md", "yaml", "json", "csv", "sql"}, name) {
			continue // a file name
		}
		if m[3] != "" {
			name += "." + m[3]
		}
		checked++
		if !decl[pkg][name] {
			unknown = append(unknown, pkg+"."+name)
		}
	}
	return checked, unknown
}

// TestArchitectureNamesExist: every function, method and type
// docs/ARCHITECTURE.md names in backticks exists, so the path it walks is
// the code's.
func TestArchitectureNamesExist(t *testing.T) {
	g := moduleGraph(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "ARCHITECTURE.md"))
	require.NoError(t, err)
	decl := declared(t, g)
	checked, unknown := unknownNames(string(doc), decl)
	require.Greater(t, checked, 50, "the check found too few names to be checking anything")
	require.Empty(t, unknown, "docs/ARCHITECTURE.md names what the code does not declare: rename them in the page")

	// And it finds a name that is not there.
	_, unknown = unknownNames("`server.conn.onPush` then `server.conn.onPushed`, `agent.Replica.Sync`, `agnet.Replica.Sync`, `doc.go`", decl)
	require.Equal(t, []string{"server.conn.onPushed", "agnet.Replica.Sync"}, unknown)

	// The rules the page cites are tests of this package.
	for _, m := range regexp.MustCompile("`(Test\\w+)`").FindAllStringSubmatch(string(doc), -1) {
		require.True(t, testDeclared(t, m[1]), "docs/ARCHITECTURE.md cites %s, which internal/archtest does not have", m[1])
	}
}

func testDeclared(t *testing.T, name string) bool {
	files, err := filepath.Glob("*_test.go")
	require.NoError(t, err)
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		if strings.Contains(string(b), "func "+name+"(t *testing.T)") {
			return true
		}
	}
	return false
}

// TestReadmeLayoutNamesEveryPackage: README's layout table names every
// package of the module, so a new one cannot go unmentioned.
func TestReadmeLayoutNamesEveryPackage(t *testing.T) {
	g := moduleGraph(t)
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	readme := string(b)
	start := strings.Index(readme, "## Layout")
	require.GreaterOrEqual(t, start, 0, "README has no Layout section")
	layout := readme[start:]
	if end := strings.Index(layout[1:], "\n## "); end >= 0 {
		layout = layout[:end+1]
	}
	var missing []string
	for p := range g {
		last := p[strings.LastIndex(p, "/")+1:]
		if !strings.Contains(layout, "`"+p) && !strings.Contains(layout, last+"/`") && !strings.Contains(layout, "`"+last+"`") {
			missing = append(missing, p)
		}
	}
	slices.Sort(missing)
	require.Empty(t, missing, "README's layout table does not name these packages")
}
