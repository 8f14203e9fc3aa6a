package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/hamlet-vn/hamlet/internal/archive"
)

// runConflictsArchive is `hamlet-agent conflicts archive --older-than 90d
// --out FILE`: old entries of the conflicts list go to a JSON Lines file,
// durably, before they leave the list.
func runConflictsArchive(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("conflicts archive", flag.ContinueOnError)
	older := fs.String("older-than", "90d", e.tr("`TUỔI` lưu các mục cũ hơn, ví dụ 90d (ngày) hoặc 36h (giờ)", "`AGE` archive entries older than this, e.g. 90d (days) or 36h (hours)"))
	out := fs.String("out", "", e.tr("`TỆP` tệp JSON Lines sẽ tạo (chưa tồn tại)", "`FILE` JSON Lines file to create (must not exist)"))
	if err := e.parse(fs, args); err != nil {
		return err
	}
	age, err := archive.ParseAge(*older)
	var ae *archive.AgeError
	if errors.As(err, &ae) {
		return e.usageErr("%s: --older-than %s", e.tr("Lỗi", "Error"), ae.Message(e.lang))
	}
	if err != nil {
		return err
	}
	if *out == "" {
		return e.usageErr("%s", e.tr("Cần --out: tệp lưu trữ sẽ tạo.", "--out is required: the archive file to create."))
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	res, err := r.ArchiveConflicts(ctx, time.Now().Add(-age), *out)
	if err != nil {
		return fmt.Errorf("%s: %w", e.tr("Chưa xóa mục nào khỏi danh sách xung đột", "Nothing was removed from the conflicts list"), err)
	}
	if e.json {
		return e.printJSON(res)
	}
	if res.Archived == 0 {
		fmt.Fprintln(e.stdout, e.tr("Không có xung đột nào cũ hơn mốc đã chọn; không tạo tệp.", "No conflicts older than that; no file written."))
		return nil
	}
	fmt.Fprintf(e.stdout, e.tr("Đã lưu %d xung đột vào %s và xóa %d mục khỏi danh sách.\n", "Archived %d conflicts to %s and removed %d from the list.\n"),
		res.Archived, res.Out, res.Deleted)
	return nil
}
