package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/examples/camau/loader"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// nationalHouseholds is the national plan's figure (docs/SCALING.md).
const nationalHouseholds = 27_000_000

// perHousehold are the tables whose rows grow with households and the
// work done on them; the rest (units, teams, members, devices, users) grow
// with the organisation and are not projected by households.
var perHousehold = map[string]bool{"sync_log": true, "sync_rows": true, "households": true, "visits": true,
	"tutoring_records": true, "field_reports": true, "sync_conflicts": true, "sync_refused": true}

// sizeScale names the example provinces --measure-sizes loads.
func sizeScale(name string) (camau.Scale, error) {
	switch name {
	case "small":
		return camau.Small(), nil
	case "seed2023":
		return camau.Seed2023(), nil
	case "province":
		return camau.Province(), nil
	case "tenth":
		// Cà Mau's full-province profile (reach, tutoring per household,
		// reports per household) at a tenth of its households: the same
		// rows per household, loaded in minutes rather than an hour.
		s := camau.Province()
		s.HouseholdsPerHamlet /= 10
		s.Reports, s.ReportsResolved, s.ReportsReturned = s.Reports/10, s.ReportsResolved/10, s.ReportsReturned/10
		return s, nil
	}
	return camau.Scale{}, fmt.Errorf("--scale: want small, seed2023, tenth or province, not %q", name)
}

// tableSize is one table's rows and bytes (heap, indexes, TOAST: all of it).
type tableSize struct {
	rows  int64
	bytes int64
}

// measureSizes loads the example province into embedded SQLite and, when
// db names a PostgreSQL cluster, into a fresh database there, through the
// push path (examples/camau/loader), and prints rows and bytes per table:
// PostgreSQL's pg_total_relation_size after VACUUM ANALYZE, SQLite's pages
// per table and its indexes from dbstat.
func measureSizes(ctx context.Context, db, scaleName string) error {
	sc, err := sizeScale(scaleName)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "hamlet-sizes-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	start := time.Now()
	srv, err := openSQLite(ctx, dir, server.Config{Logger: quiet, GCInterval: -1})
	if err != nil {
		return err
	}
	res, err := loader.Load(ctx, srv, sc, loader.Options{})
	if cerr := srv.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("load into SQLite: %w", err)
	}
	fmt.Printf("scale %s: %d households, %d visits, %d tutoring records, %d field reports; %d changes; SQLite loaded in %v (%.0f changes/s)\n",
		scaleName, res.Counts.Households, res.Counts.Visits, res.Counts.Tutoring, res.Counts.Reports, res.Changes,
		time.Since(start).Round(time.Second), res.ChangesPerSecond())
	lite, err := sqliteSizes(ctx, filepath.Join(dir, sqlitestore.DBFile))
	if err != nil {
		return err
	}

	var pg map[string]tableSize
	if db != "" {
		dbURL, drop, err := freshDatabase(ctx, db)
		if err != nil {
			return err
		}
		defer drop()
		start := time.Now()
		srv, err := openPostgres(ctx, dbURL)
		if err != nil {
			return err
		}
		pres, err := loader.Load(ctx, srv, sc, loader.Options{})
		if cerr := srv.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("load into PostgreSQL: %w", err)
		}
		fmt.Printf("PostgreSQL loaded in %v (%.0f changes/s through the push path)\n", time.Since(start).Round(time.Second), pres.ChangesPerSecond())
		if pg, err = postgresSizes(ctx, dbURL); err != nil {
			return err
		}
	}
	printSizes(res.Counts.Households, lite, pg)
	return nil
}

func sqliteSizes(ctx context.Context, path string) (map[string]tableSize, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// dbstat counts every page of every b-tree; an index counts for its table.
	rows, err := db.QueryContext(ctx, `SELECT m.tbl_name, SUM(s.pgsize) FROM dbstat s JOIN sqlite_master m ON m.name = s.name
		WHERE m.tbl_name NOT LIKE 'sqlite_%' GROUP BY m.tbl_name`)
	if err != nil {
		return nil, fmt.Errorf("SQLite sizes (dbstat): %w", err)
	}
	out := map[string]tableSize{}
	for rows.Next() {
		var name string
		var b int64
		if err := rows.Scan(&name, &b); err != nil {
			rows.Close()
			return nil, err
		}
		out[name] = tableSize{bytes: b}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for name, ts := range out {
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM "`+name+`"`).Scan(&ts.rows); err != nil {
			return nil, fmt.Errorf("count %s: %w", name, err)
		}
		out[name] = ts
	}
	return out, nil
}

func postgresSizes(ctx context.Context, dbURL string) (map[string]tableSize, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return nil, fmt.Errorf("vacuum: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
		WHERE c.relkind IN ('r', 'p') AND c.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL sizes: %w", err)
	}
	out := map[string]tableSize{}
	for rows.Next() {
		var name string
		var b int64
		if err := rows.Scan(&name, &b); err != nil {
			rows.Close()
			return nil, err
		}
		out[name] = tableSize{bytes: b}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for name, ts := range out {
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{name}.Sanitize()).Scan(&ts.rows); err != nil {
			return nil, fmt.Errorf("count %s: %w", name, err)
		}
		out[name] = ts
	}
	return out, nil
}

// printSizes prints a table per store's table, largest first, with rows
// and bytes per household and their projection to the national figure.
func printSizes(households int, lite, pg map[string]tableSize) {
	names := map[string]bool{}
	for n := range lite {
		names[n] = true
	}
	for n := range pg {
		names[n] = true
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	size := func(n string) int64 { return max(pg[n].bytes, lite[n].bytes) }
	sort.Slice(list, func(i, j int) bool {
		return size(list[i]) > size(list[j]) || size(list[i]) == size(list[j]) && list[i] < list[j]
	})
	hh := float64(households)
	per := func(b, r int64) string {
		if r == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f", float64(b)/float64(r))
	}
	fmt.Printf("%-26s %10s %8s %12s %8s %12s %8s %14s %10s %10s\n", "table", "rows", "rows/hh", "PG bytes", "PG B/row", "SQLite bytes", "SQL B/row",
		"rows @27M hh", "PG @27M", "SQL @27M")
	var tp, tl, pp, pl int64
	for _, n := range list {
		r := max(pg[n].rows, lite[n].rows)
		tp += pg[n].bytes
		tl += lite[n].bytes
		proj, projP, projL := "-", "-", "-"
		if perHousehold[n] {
			pp += pg[n].bytes
			pl += lite[n].bytes
			proj = fmt.Sprintf("%.0f", float64(r)/hh*nationalHouseholds)
			projP, projL = gb(float64(pg[n].bytes)/hh*nationalHouseholds), gb(float64(lite[n].bytes)/hh*nationalHouseholds)
		}
		fmt.Printf("%-26s %10d %8.3f %12d %8s %12d %8s %14s %10s %10s\n", n, r, float64(r)/hh, pg[n].bytes, per(pg[n].bytes, pg[n].rows),
			lite[n].bytes, per(lite[n].bytes, lite[n].rows), proj, projP, projL)
	}
	fmt.Printf("%-26s %10s %8s %12d %8s %12d %8s %14s %10s %10s\n", "total", "", "", tp, "", tl, "", "",
		gb(float64(pp)/hh*nationalHouseholds), gb(float64(pl)/hh*nationalHouseholds))
	fmt.Printf("bytes per household in the tables that grow with households: PostgreSQL %.0f, SQLite %.0f (the projections to %d households scale those only)\n",
		float64(pp)/hh, float64(pl)/hh, nationalHouseholds)
}

func gb(b float64) string { return fmt.Sprintf("%.1f GB", b/1e9) }
