package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/hamlet-vn/hamlet"

// root is the module's directory, from this package's.
var root = filepath.Join("..", "..")

// pkg is what `go list -json` says of one package of the module.
type pkg struct {
	ImportPath string
	Name       string
	Dir        string
	GoFiles    []string
	Imports    []string // of its non-test files
	Deps       []string // everything its non-test files reach
}

// graph is the module's packages by path inside the module ("server/api");
// imports of the module's packages are written the same way.
type graph map[string]*pkg

// rel is p inside the module ("server/api"), or p itself (a standard or
// third-party package).
func rel(p string) string {
	if p == module {
		return "."
	}
	return strings.TrimPrefix(p, module+"/")
}

var loadGraph = sync.OnceValues(func() (graph, error) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Name,Dir,GoFiles,Imports,Deps", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w: %s", err, stderr.String())
	}
	g := graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		p.ImportPath = rel(p.ImportPath)
		for i := range p.Imports {
			p.Imports[i] = rel(p.Imports[i])
		}
		for i := range p.Deps {
			p.Deps[i] = rel(p.Deps[i])
		}
		g[p.ImportPath] = &p
	}
	return g, nil
})

func moduleGraph(t *testing.T) graph {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool: the import rules need `go list`")
	}
	g, err := loadGraph()
	require.NoError(t, err)
	require.Contains(t, g, "syncproto", "go list ran outside the module")
	return g
}

// The rules. A package list names packages inside the module.
var (
	// pure packages hold rules, not machinery: no database, no network,
	// no files, no process, no wall clock (the last is a source scan:
	// TestPurePackagesReadNoWallClock).
	pure = []string{"syncproto", "schema", "workcal", "internal/i18n", "internal/versions", "internal/compact", "internal/fieldcode", "internal/migration", "internal/photo", "internal/readall", "internal/officefile", "internal/framezstd"}
	// ioImports may not be imported by a pure package's own files; every
	// path under net/ is forbidden too.
	ioImports = []string{"database/sql", "database/sql/driver", "net", "os", "os/exec", "os/signal", "io/ioutil",
		"path/filepath", "syscall", "log", "log/slog"}
	// machinery may not be reached at all, even through another package:
	// what a pure package reaches, the agent and the server link too.
	machinery = []string{"database/sql", "net/http", "os/exec", "modernc.org/sqlite", "github.com/jackc/pgx/v5",
		"github.com/gorilla/websocket", "github.com/lib/pq", "github.com/mattn/go-sqlite3"}
	// pureMayImport are the exceptions among the module's packages (none
	// today: schema keeps its migrations as data of internal/migration's
	// type, which is pure).
	pureMayImport = map[string][]string{}

	stores = []string{"server/sqlitestore", "server/pgstore"}
	// storeOnly are imported by the stores alone: the SQL both share.
	storeOnly = []string{"server/internal/sqlread"}
	http      = []string{"server/api", "server/dashboard", "server/httpapp"}
	// mayImportHelpers is the one package outside tests that uses a test
	// helper: hamlet-load drives a server the way the tests do.
	mayImportHelpers = []string{"cmd/hamlet-load"}
	// bothSides links the server and the agent in one process: the
	// deterministic simulation of the whole system (a test helper).
	bothSides = []string{"internal/simtest"}
)

// helper reports whether p is a test-helper package (agenttest,
// servertest, storetest…): imported by tests, which may open stores.
func helper(p string) bool {
	return strings.HasSuffix(p, "test") && !strings.Contains(p, ".")
}

func under(p string, dirs ...string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

func netPath(p string) bool { return p == "net" || strings.HasPrefix(p, "net/") }

// violations lists every broken import rule of g, each naming the
// importing package and what it must not import.
func violations(g graph) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	names := make([]string, 0, len(g))
	for p := range g {
		names = append(names, p)
	}
	slices.Sort(names)

	for _, p := range pure {
		for _, imp := range g[p].Imports {
			if slices.Contains(ioImports, imp) || netPath(imp) {
				bad("%s is pure: it imports %s (I/O)", p, imp)
			}
			if _, ours := g[imp]; ours && !slices.Contains(pure, imp) && !slices.Contains(pureMayImport[p], imp) {
				bad("%s is pure: it imports %s, which is not", p, imp)
			}
		}
		for _, d := range g[p].Deps {
			if slices.Contains(machinery, d) || (d == "database/sql" && p != "schema") {
				bad("%s is pure: it reaches %s", p, d)
			}
		}
	}
	for _, p := range names {
		// The agent and its binary link nothing of the server: it talks to
		// it through the protocol alone.
		if under(p, "agent", "cmd/hamlet-agent") {
			for _, d := range g[p].Deps {
				if under(d, "server") {
					bad("%s reaches %s: the agent imports nothing under server/", p, d)
				}
			}
		}
	}
	for _, p := range names {
		// The server's side links nothing of the agent, and the shared
		// packages (internal/*, the example province) neither side.
		if under(p, "server", "cmd/hamlet-server", "internal", "examples/camau") && !under(p, "examples/camau/scenario") && !under(p, bothSides...) {
			for _, d := range g[p].Deps {
				if under(d, "agent") || (under(p, "internal", "examples/camau") && !under(p, "examples/camau/loader") && under(d, "server")) {
					bad("%s reaches %s: the server side imports no agent package, a shared one neither side", p, d)
				}
			}
		}
	}
	for _, imp := range g["server/analytics"].Imports {
		if imp == "database/sql" || imp == "database/sql/driver" {
			bad("server/analytics imports %s: it reads through its Source", imp)
		}
	}
	for _, d := range g["server/analytics"].Deps {
		if d == "server" || under(d, stores...) || slices.Contains(storeOnly, d) || slices.Contains(machinery, d) {
			bad("server/analytics reaches %s: it imports no server package, store or driver", d)
		}
	}
	for _, s := range stores {
		for _, imp := range g[s].Imports {
			if imp == "net/http" || imp == "github.com/gorilla/websocket" {
				bad("%s imports %s: a store speaks no HTTP", s, imp)
			}
		}
		for _, d := range g[s].Deps {
			if under(d, http...) || (under(d, stores...) && !under(d, s)) {
				bad("%s reaches %s: a store imports no HTTP package and no other store", s, d)
			}
		}
	}
	for _, d := range g["server"].Deps {
		if under(d, http...) || under(d, stores...) || slices.Contains(storeOnly, d) {
			bad("server reaches %s: the core never imports the HTTP packages or a store", d)
		}
	}
	for _, p := range names {
		// Only a main (cmd/*, a runnable example) chooses a store; tests
		// and their helpers open one to run against.
		if g[p].Name != "main" && !helper(p) && !under(p, stores...) {
			for _, d := range g[p].Deps {
				if under(d, stores...) {
					bad("%s reaches %s: only a main or a test opens a store", p, d)
				}
			}
		}
		for _, imp := range g[p].Imports {
			if slices.Contains(storeOnly, imp) && !under(p, stores...) {
				bad("%s imports %s, which only the stores share", p, imp)
			}
			if _, ours := g[imp]; ours && helper(imp) && !helper(p) && !slices.Contains(mayImportHelpers, p) {
				bad("%s imports the test helper %s: only tests do", p, imp)
			}
		}
	}
	return out
}

// TestImportRules holds the module to the drawing in docs/ARCHITECTURE.md.
func TestImportRules(t *testing.T) {
	g := moduleGraph(t)
	for _, p := range slices.Concat(pure, stores, storeOnly, http, []string{"server", "server/analytics", "agent"}) {
		require.Contains(t, g, p, "a rule names a package that does not exist")
	}
	require.Empty(t, violations(g))
}

// withImport is g with from importing to (and everything that reaches
// from now reaching to and its dependencies too).
func withImport(g graph, from, to string) graph {
	added := []string{to}
	if p, ok := g[to]; ok {
		added = append(added, p.Deps...)
	}
	out := graph{}
	for name, p := range g {
		c := *p
		c.Imports, c.Deps = slices.Clone(p.Imports), slices.Clone(p.Deps)
		if name == from {
			c.Imports = append(c.Imports, to)
		}
		if name == from || slices.Contains(p.Deps, from) {
			c.Deps = append(c.Deps, added...)
		}
		out[name] = &c
	}
	return out
}

// Each rule fails when the import it forbids is added: the rules above
// cannot pass by accident.
func TestImportRulesCatchAForbiddenImport(t *testing.T) {
	g := moduleGraph(t)
	cases := []struct{ from, to string }{
		{"syncproto", "net/http"},
		{"syncproto", "os"},
		{"workcal", "database/sql"},
		{"schema", "server"},
		{"internal/i18n", "net/url"},
		{"internal/versions", "modernc.org/sqlite"},
		{"agent", "server"},
		{"agent", "server/servertest"},
		{"server/analytics", "database/sql"},
		{"server/analytics", "server/sqlitestore"},
		{"server/analytics", "server/internal/sqlread"},
		{"server/sqlitestore", "net/http"},
		{"server/pgstore", "server/dashboard"},
		{"server/pgstore", "server/sqlitestore"},
		{"server", "server/pgstore"},
		{"server", "server/api"},
		{"server/api", "server/sqlitestore"},
		{"server/httpapp", "server/servertest"},
		{"examples/camau/loader", "server/pgstore"},
		{"server/dashboard", "server/internal/sqlread"},
		{"server/api", "agent"},
		{"cmd/hamlet-server", "agent"},
		{"internal/cliflag", "server"},
		{"internal/archive", "agent"},
		{"examples/camau", "server"},
	}
	for _, tc := range cases {
		t.Run(tc.from+" imports "+tc.to, func(t *testing.T) {
			require.NotContains(t, g[tc.from].Imports, tc.to, "the case must add an import the package does not have")
			require.Empty(t, violations(g))
			v := violations(withImport(g, tc.from, tc.to))
			require.NotEmpty(t, v, "no rule forbids it")
			require.True(t, slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, tc.to) }), "%q", v)
		})
	}
}
