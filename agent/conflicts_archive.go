package agent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hamlet-vn/hamlet/internal/archive"
)

// ArchiveResult is what ArchiveConflicts did.
type ArchiveResult struct {
	Archived int    `json:"archived"` // entries written to the file
	Deleted  int    `json:"deleted"`  // entries removed from the conflicts list
	Out      string `json:"out"`
}

// ArchiveConflicts writes every conflict detected before `before` to the
// JSON Lines file out (internal/archive: both values, versions, when it was
// detected and restored), fsynced, and only then removes those entries. A
// failure before the removal leaves the list as it was; an existing out is
// never overwritten.
func (r *Replica) ArchiveConflicts(ctx context.Context, before time.Time, out string) (ArchiveResult, error) {
	res := ArchiveResult{Out: out}
	var last int64
	readFailed := false // the replica failed, not the archive's file
	n, err := archive.WriteFile(out, func(emit func(archive.Conflict) error) error {
		rows, err := r.db.QueryContext(ctx, `SELECT id, tbl, row_id, field, scope, loser_kind, loser_value, loser_hlc, loser_replica, loser_seq,
			winner_kind, winner_value, winner_hlc, winner_replica, winner_seq, detected_at, restored_at FROM conflicts
			WHERE detected_at < ? ORDER BY id`, before.UnixMilli())
		if err != nil {
			readFailed = true
			return fmt.Errorf("read conflicts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c archive.Conflict
			var lk, wk, lh, wh, ls, ws, det int64
			var lv, wv any
			var lr, wr []byte
			var restored sql.NullInt64
			if err := rows.Scan(&c.ID, &c.Table, &c.Row, &c.Field, &c.Scope, &lk, &lv, &lh, &lr, &ls, &wk, &wv, &wh, &wr, &ws, &det, &restored); err != nil {
				readFailed = true
				return fmt.Errorf("read conflicts: %w", err)
			}
			side := func(k int64, v any, h int64, rep []byte, seq int64) archive.Version {
				val := valueFrom(k, v)
				d := dotFrom(rep, seq)
				return archive.Version{Kind: archive.KindName(val.Kind()), Value: val.Any(), HLC: uint64(h), Replica: d.Replica.String(), Seq: d.Seq}
			}
			c.Loser, c.Winner = side(lk, lv, lh, lr, ls), side(wk, wv, wh, wr, ws)
			c.At = time.UnixMilli(det).UTC()
			if restored.Valid {
				at := time.UnixMilli(restored.Int64).UTC()
				c.RestoredAt = &at
			}
			last = c.ID
			if err := emit(c); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			readFailed = true
			return fmt.Errorf("read conflicts: %w", err)
		}
		return nil
	})
	switch {
	case err != nil && !readFailed:
		return res, &ArchiveWriteError{Path: out, Err: err}
	case err != nil || n == 0:
		return res, err
	}
	res.Archived = n
	rs, err := r.writer().ExecContext(ctx, `DELETE FROM conflicts WHERE detected_at < ? AND id <= ?`, before.UnixMilli(), last)
	if err != nil {
		return res, fmt.Errorf("remove archived conflicts (they are in %s): %w", out, err)
	}
	d, _ := rs.RowsAffected()
	res.Deleted = int(d)
	return res, nil
}

// ArchiveWriteError: the archive's file could not be written (its disk
// full, its folder missing or not writable), so nothing was removed from
// the conflicts list. The replica is not at fault: Classify leaves this
// error as it is, rather than telling a full disk as the replica's.
type ArchiveWriteError struct {
	Path string
	Err  error
}

func (e *ArchiveWriteError) Error() string {
	return fmt.Sprintf("agent: write the archive %s: %v", e.Path, e.Err)
}
func (e *ArchiveWriteError) Unwrap() error { return e.Err }

func (e *ArchiveWriteError) Message(lang string) string {
	if errors.Is(e.Err, archive.ErrExists) {
		return pick(lang,
			fmt.Sprintf("Chưa xóa mục nào khỏi danh sách xung đột: đã có một tệp hoặc thư mục tên %s, và Hamlet không ghi đè lên nó. Hãy chọn một tên tệp mới (--out TỆP) rồi chạy lại lệnh.", e.Path),
			fmt.Sprintf("Nothing was removed from the conflicts list: a file or folder named %s exists already, and Hamlet does not overwrite it. Choose a new file name (--out FILE), then run the command again.", e.Path))
	}
	if isDiskFull(e.Err) {
		return pick(lang,
			fmt.Sprintf("Chưa xóa mục nào khỏi danh sách xung đột: ổ đĩa chứa %s đã đầy nên Hamlet không ghi được tệp lưu trữ. Hãy giải phóng dung lượng ở ổ đó, hoặc chọn nơi khác (--out TỆP), rồi chạy lại lệnh.", e.Path),
			fmt.Sprintf("Nothing was removed from the conflicts list: the disk holding %s is full, so Hamlet could not write the archive. Free some space on that disk, or choose another place (--out FILE), then run the command again.", e.Path))
	}
	return pick(lang,
		fmt.Sprintf("Chưa xóa mục nào khỏi danh sách xung đột: Hamlet không ghi được tệp lưu trữ %s. Hãy kiểm tra thư mục đó có tồn tại và ghi được không, hoặc chọn nơi khác (--out TỆP), rồi chạy lại lệnh (chi tiết cho cán bộ CNTT: %v).", e.Path, e.Err),
		fmt.Sprintf("Nothing was removed from the conflicts list: Hamlet could not write the archive %s. Check that its folder exists and can be written, or choose another place (--out FILE), then run the command again (detail for IT staff: %v).", e.Path, e.Err))
}
