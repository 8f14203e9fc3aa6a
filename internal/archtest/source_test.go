package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wallClock are the functions of package time that read the wall clock or
// wait on it: a pure package takes a clock (a func() time.Time) instead.
var wallClock = []string{"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "Tick", "NewTimer", "NewTicker"}

// clockReads lists where src reads the wall clock.
func clockReads(fset *token.FileSet, f *ast.File) []string {
	name := ""
	for _, imp := range f.Imports {
		if imp.Path.Value == `"time"` {
			name = "time"
			if imp.Name != nil {
				name = imp.Name.Name
			}
		}
	}
	if name == "" {
		return nil
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == name && slices.Contains(wallClock, sel.Sel.Name) {
				out = append(out, fset.Position(sel.Pos()).String()+": time."+sel.Sel.Name)
			}
		}
		return true
	})
	return out
}

// TestPurePackagesReadNoWallClock: a pure package's files (tests aside)
// never call time.Now and its kin.
func TestPurePackagesReadNoWallClock(t *testing.T) {
	g := moduleGraph(t)
	var reads []string
	for _, p := range pure {
		for _, name := range g[p].GoFiles {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, filepath.Join(g[p].Dir, name), nil, parser.SkipObjectResolution)
			require.NoError(t, err)
			reads = append(reads, clockReads(fset, f)...)
		}
	}
	require.Empty(t, reads, "a pure package reads the wall clock: take a clock function (see syncproto.NewClock)")
}

func TestClockReadsAreFound(t *testing.T) {
	cases := []struct {
		src  string
		want int
	}{
		{"package p\nimport \"time\"\nfunc f() time.Time { return time.Now() }", 1},
		{"package p\nimport t0 \"time\"\nfunc f() { t0.Sleep(t0.Since(t0.Time{})) }", 2},
		{"package p\nimport \"time\"\nfunc f(now func() time.Time) time.Duration { return now().Sub(time.Unix(0, 0)) }", 0},
		{"package p\nfunc f() { var time struct{ Now int }; _ = time.Now }", 0},
	}
	for _, tc := range cases {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "x.go", tc.src, 0)
		require.NoError(t, err)
		require.Len(t, clockReads(fset, f), tc.want, tc.src)
	}
}

// sqlText matches the start of a SQL statement in upper case, as the
// stores write them (a word in a page's text does not match).
var sqlText = regexp.MustCompile(`\b(SELECT\s+(DISTINCT\s+)?[\w*(]|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|` +
	`CREATE\s+(TABLE|(UNIQUE\s+)?INDEX|VIEW|TRIGGER)\b|ALTER\s+TABLE\b|DROP\s+(TABLE|INDEX)\b|PRAGMA\s+\w|BEGIN\s+IMMEDIATE\b|VACUUM\b|COPY\s+\w+\s*\()`)

// sqlIn lists the string literals of f that hold SQL.
func sqlIn(fset *token.FileSet, f *ast.File) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, err := strconv.Unquote(lit.Value)
			if err == nil && sqlText.MatchString(s) {
				out = append(out, fset.Position(lit.Pos()).String()+": "+sqlText.FindString(s))
			}
		}
		return true
	})
	return out
}

// sqlHomes are where SQL is written under server/: the stores (with their
// test helpers) and the SQL both share.
var sqlHomes = []string{"server/sqlitestore", "server/pgstore", "server/internal/sqlread"}

// TestNoSQLInServerOutsideTheStores: no file under server/ outside the
// stores, tests included, holds a SQL statement: the core, the read model
// and the HTTP packages reach data through the store port.
func TestNoSQLInServerOutsideTheStores(t *testing.T) {
	var found []string
	files := 0
	err := filepath.WalkDir(filepath.Join(root, "server"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(root, path)
		r = filepath.ToSlash(r)
		if d.IsDir() {
			if under(r, sqlHomes...) || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		found = append(found, sqlIn(fset, f)...)
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, files, 100, "the walk missed server/")
	require.Empty(t, found, "SQL belongs in a store (server/sqlitestore, server/pgstore) behind the port")
}

func TestSQLIsFound(t *testing.T) {
	cases := []struct {
		lit string
		sql bool
	}{
		{"`SELECT seq, tbl FROM sync_log WHERE seq > ?`", true},
		{`"INSERT OR REPLACE INTO replicas (idx, id) VALUES ($1, $2)"`, true},
		{`"UPDATE devices SET revoked_at = ?"`, true},
		{`"DELETE FROM sync_conflicts WHERE id <= ?"`, true},
		{"`CREATE UNIQUE INDEX x ON t (a)`", true},
		{`"PRAGMA journal_mode"`, true},
		{`"select count(*) from t"`, false}, // lower case: not how the stores write it
		{`"Select a commune to see its hamlets"`, false},
		{`"Chọn xã (SELECT) để xem ấp"`, false},
		{`"UPDATE the agent"`, false},
	}
	for _, tc := range cases {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "x.go", "package p\nvar s = "+tc.lit, 0)
		require.NoError(t, err)
		require.Equal(t, tc.sql, len(sqlIn(fset, f)) > 0, tc.lit)
	}
}

// goFileRef is a Go file named in a comment: a bare name is in the
// comment's own package, a path (server/apply.go) is from the module's
// root.
var goFileRef = regexp.MustCompile(`(^|[\s(\x60"'])([\w./-]*\w\.go)\b`)

// TestCommentsNameFilesThatExist: a comment that sends the reader to a
// file sends them to one that exists, so a moved file cannot leave its
// readers lost (as the server's package doc once did, naming a file gone
// since).
func TestCommentsNameFilesThatExist(t *testing.T) {
	g := moduleGraph(t)
	var missing []string
	for _, p := range g {
		files, err := filepath.Glob(filepath.Join(p.Dir, "*.go"))
		require.NoError(t, err)
		for _, name := range files {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
			require.NoError(t, err)
			for _, cg := range f.Comments {
				for _, m := range goFileRef.FindAllStringSubmatch(cg.Text(), -1) {
					ref := m[2]
					if exists(filepath.Join(p.Dir, ref)) || exists(filepath.Join(root, ref)) {
						continue
					}
					missing = append(missing, fset.Position(cg.Pos()).String()+": "+ref)
				}
			}
		}
	}
	slices.Sort(missing)
	require.Empty(t, missing, "a comment names a file that does not exist: name it by its path from the module's root, or fix the name")
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestEveryPackageSaysWhatItIsAndWhatItNeverImports: every package of the
// module has its package comment in doc.go (a main, in its main file), and the
// comment says what the package must never import or do.
func TestEveryPackageSaysWhatItIsAndWhatItNeverImports(t *testing.T) {
	g := moduleGraph(t)
	for name, p := range g {
		file := "doc.go"
		if p.Name == "main" {
			file = "main.go"
		}
		path := filepath.Join(p.Dir, file)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.PackageClauseOnly)
		if !assert.NoError(t, err, "%s: its package comment goes in %s", name, file) {
			continue
		}
		if !assert.NotNil(t, f.Doc, "%s has no package comment in %s", name, file) {
			continue
		}
		doc := f.Doc.Text()
		want := "Package " + p.Name + " "
		if p.Name == "main" {
			want = "Command "
		}
		assert.True(t, strings.HasPrefix(doc, want), "%s: the comment starts %q", path, want)
		assert.Contains(t, doc, "never", "%s: say what %s must never import", path, name)
	}
}
