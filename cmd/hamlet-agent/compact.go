package main

import (
	"context"
	"flag"
	"fmt"
)

// runCompact is `hamlet-agent compact`: the overwritten versions of rows
// already synced leave the replica (Replica.CompactHistory), and the file
// gives the space back. Current values, conflicts and rows with changes
// still to push keep everything.
func runCompact(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("compact", flag.ContinueOnError)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := e.noWords(fs); err != nil {
		return err
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	dropped, err := r.CompactHistory(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", e.tr("Không dọn được dữ liệu cũ trên máy (dữ liệu không đổi)", "Could not tidy the data on this laptop (nothing changed)"), err)
	}
	if e.json {
		return e.printJSON(map[string]int{"dropped": dropped})
	}
	if dropped == 0 {
		fmt.Fprintln(e.stdout, e.tr("Không có giá trị cũ nào để bỏ.", "No old values to drop."))
		return nil
	}
	fmt.Fprintf(e.stdout, e.tr("Đã bỏ %d giá trị cũ đã đồng bộ; giá trị hiện tại, xung đột và thay đổi chờ gửi vẫn giữ nguyên.\n",
		"Dropped %d old values already synced; current values, conflicts and pending changes are kept.\n"), dropped)
	return nil
}
