package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/hamlet-vn/hamlet/internal/archive"
	"github.com/hamlet-vn/hamlet/server"
)

func init() {
	register(command{name: "conflicts archive",
		vi:  "lưu các mục nhật ký xung đột cũ hơn --older-than (vd. 90d) ra tệp JSON Lines --out rồi xóa khỏi nhật ký",
		en:  "archive conflict-log entries older than --older-than (e.g. 90d) to the JSON Lines file --out, then remove them",
		run: runConflictsArchive})
}

// age is a flag value for an age: a number of days ("90d") or a Go
// duration ("36h").
type age struct{ d time.Duration }

func (a *age) String() string {
	if a.d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(a.d/(24*time.Hour))) + "d"
	}
	return a.d.String()
}

func (a *age) Set(s string) error {
	d, err := parseAge(s)
	if err != nil {
		return err
	}
	a.d = d
	return nil
}

// parseAge reads "90d" or a Go duration (archive.ParseAge).
var parseAge = archive.ParseAge

func ageFlag(fs *flag.FlagSet, name string, def time.Duration, usage string) *age {
	a := &age{d: def}
	fs.Var(a, name, usage)
	return a
}

func runConflictsArchive(ctx context.Context, e *env, args []string) error {
	fs := e.flags("conflicts archive")
	e.jsonFlag(fs)
	older := ageFlag(fs, "older-than", 90*24*time.Hour, e.msg("lưu các mục cũ hơn (vd. 90d, 36h)", "archive entries older than (e.g. 90d, 36h)"))
	out := fs.String("out", "", e.msg("tệp JSON Lines sẽ tạo (chưa tồn tại)", "JSON Lines file to create (must not exist)"))
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New(e.msg("cần --out: tệp lưu trữ sẽ tạo", "--out is required: the archive file to create"))
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	res, err := s.Admin().ArchiveConflicts(ctx, time.Now().Add(-older.d), *out)
	if errors.Is(err, archive.ErrExists) {
		return fmt.Errorf("%s %s", e.msg("tệp đã tồn tại, không ghi đè (chưa xóa gì):", "file exists, not overwritten (nothing removed):"), *out)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", e.msg("chưa xóa mục nào khỏi nhật ký xung đột", "nothing was removed from the conflict log"), err)
	}
	if e.json {
		return e.printJSON(res)
	}
	printArchive(e, res)
	return nil
}

func printArchive(e *env, res server.ArchiveResult) {
	if res.Archived == 0 {
		e.printf("Không có mục xung đột nào cũ hơn mốc đã chọn; không tạo tệp.\n", "No conflict entries older than that; no file written.\n")
		return
	}
	e.printf("Đã lưu %d mục xung đột vào %s và xóa %d mục khỏi nhật ký.\n", "Archived %d conflict entries to %s and removed %d from the log.\n",
		res.Archived, res.Out, res.Deleted)
}
