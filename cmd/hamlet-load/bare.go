package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// bareResult is the bare SQLite cost of a run's rows: the yardstick the
// server's CPU per agent sync is held against, measured in the same
// invocation (so on the same machine under the same load).
type bareResult struct {
	cpu  float64 // CPU seconds of the whole bare workload
	wall time.Duration
}

// bareSync does, in plain SQLite with the store's writer pragmas
// (synchronous FULL, WAL, as `hamlet-server serve`), what the run stored
// and read: each agent's households as rows with their fields and its
// changes as log rows, in commits transactions (as many as the server
// committed), then for each agent one indexed read of its hamlet's log
// without its own entries. No sync metadata, no protocol, no decisions:
// what any server of these rows would at least pay. It runs in this
// process, on the load generator's CPU, once the server is idle.
func bareSync(ctx context.Context, ags []*agent, commits int) (*bareResult, error) {
	dir, err := os.MkdirTemp("", "hamlet-load-bare-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "bare.db")+"?"+sqlitestore.WriterPragmas("FULL")+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE households (id TEXT PRIMARY KEY, hamlet_code TEXT, head_name TEXT,
		address TEXT, notes TEXT, registered_on TEXT);
		CREATE TABLE log (seq INTEGER PRIMARY KEY, scope TEXT NOT NULL, tbl TEXT NOT NULL, row BLOB NOT NULL,
		field TEXT NOT NULL, val, hlc INTEGER NOT NULL, origin INTEGER NOT NULL, oseq INTEGER NOT NULL);
		CREATE INDEX log_scope ON log (scope, seq);`); err != nil {
		return nil, fmt.Errorf("bare: %w", err)
	}
	commits = max(1, min(commits, len(ags)))
	per := (len(ags) + commits - 1) / commits
	cpu0, start := selfCPU(), time.Now()
	for i := 0; i < len(ags); i += per {
		if err := bareWrite(ctx, db, ags[i:min(i+per, len(ags))], i); err != nil {
			return nil, fmt.Errorf("bare: %w", err)
		}
	}
	read, err := db.PrepareContext(ctx, `SELECT seq, tbl, row, field, val, hlc, origin, oseq FROM log
		WHERE scope = ? AND origin != ? ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("bare: %w", err)
	}
	defer read.Close()
	for i, a := range ags {
		rows, err := read.QueryContext(ctx, a.hamlet, i)
		if err != nil {
			return nil, fmt.Errorf("bare: %w", err)
		}
		n := 0
		for rows.Next() {
			var seq, hlc, origin, oseq int64
			var tbl, field string
			var row []byte
			var val any
			if err := rows.Scan(&seq, &tbl, &row, &field, &val, &hlc, &origin, &oseq); err != nil {
				rows.Close()
				return nil, fmt.Errorf("bare: %w", err)
			}
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("bare: %w", err)
		}
		if want := len(a.got); n != want {
			return nil, fmt.Errorf("bare: agent %d read %d entries, the sync delivered %d", i, n, want)
		}
	}
	return &bareResult{cpu: selfCPU() - cpu0, wall: time.Since(start)}, nil
}

// bareWrite stores the changes of ags (the first is agent number first)
// in one transaction: their households whole, and one log row per change.
func bareWrite(ctx context.Context, db *sql.DB, ags []*agent, first int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	ins, err := tx.PrepareContext(ctx, `INSERT INTO households (id, hamlet_code, head_name, address, notes, registered_on)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET hamlet_code = excluded.hamlet_code,
		head_name = excluded.head_name, address = excluded.address, notes = excluded.notes, registered_on = excluded.registered_on`)
	if err != nil {
		return err
	}
	logIns, err := tx.PrepareContext(ctx, `INSERT INTO log (scope, tbl, row, field, val, hlc, origin, oseq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for k, a := range ags {
		rows := map[uuid.UUID]map[string]any{}
		var order []uuid.UUID
		for _, c := range a.sent {
			f := rows[c.Row]
			if f == nil {
				f = map[string]any{}
				rows[c.Row] = f
				order = append(order, c.Row)
			}
			f[c.Field] = c.Value.Any()
			if _, err := logIns.ExecContext(ctx, a.hamlet, c.Table, c.Row[:], c.Field, c.Value.Any(), int64(c.HLC), first+k, int64(c.Dot.Seq)); err != nil {
				return err
			}
		}
		for _, id := range order {
			f := rows[id]
			if _, err := ins.ExecContext(ctx, id.String(), f["hamlet_code"], f["head_name"], f["address"], f["notes"], f["registered_on"]); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// bareLine is the yardstick's line of the report.
func (b *bareResult) line(n, commits int, serverCPU float64) string {
	per := b.cpu / float64(n)
	return fmt.Sprintf("bare SQLite, the same rows (households and one log row per change, %d commits, synchronous FULL) and reads: "+
		"%.3f ms CPU per agent sync (%v in all); the server's %.3f ms is %.1fx that",
		commits, 1000*per, b.wall.Round(time.Millisecond), 1000*serverCPU, serverCPU/per)
}
