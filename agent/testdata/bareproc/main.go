// Command bareproc is the benchmarks' bare-SQLite process: what a command
// of hamlet-agent would cost if it did nothing but open the same SQLite
// file with the same driver and settings and do one thing.
//
//	bareproc start FILE   nothing: the cost of starting a process with the driver linked
//	bareproc read  FILE   one read of one row
//	bareproc write FILE   one row inserted and committed (fsync), then removed next time
package main

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"

	_ "modernc.org/sqlite"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: bareproc start|read|write FILE")
		os.Exit(2)
	}
	if os.Args[1] == "start" {
		return
	}
	dsn := "file:" + (&url.URL{Path: os.Args[2]}).EscapedPath() + "?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		fail(err)
	}
	defer db.Close()
	switch os.Args[1] {
	case "read":
		var n int
		err = db.QueryRow(`SELECT count(*) FROM (SELECT 1 FROM households LIMIT 1)`).Scan(&n)
	case "write":
		_, err = db.Exec(`INSERT OR REPLACE INTO households (id, hamlet_code, head_name) VALUES ('bare', '32002-01', 'Một hộ')`)
	default:
		err = fmt.Errorf("unknown op %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bareproc:", err)
	os.Exit(1)
}
