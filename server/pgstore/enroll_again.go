package pgstore

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hamlet-vn/hamlet/server"
)

// enrollAgain is the SQLite store's (server/enroll_again.go): the replica
// a used code enrolled gets that device again with d's token, while the
// code is valid and the device active; otherwise ErrCodeUsed. The code's
// row is locked (FOR UPDATE), so two such requests take turns.
func (w *pgTx) enrollAgain(usedBy string, d *server.Device, valid bool) error {
	if !valid || usedBy == "" {
		return server.ErrCodeUsed
	}
	prev, err := scanDevice(w.tx.QueryRow(w.ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id WHERE d.id = $1 FOR UPDATE OF d`, usedBy))
	if errors.Is(err, pgx.ErrNoRows) {
		return server.ErrCodeUsed
	}
	if err != nil {
		return fmt.Errorf("enroll: read the code's device: %w", err)
	}
	if !server.SameEnrollment(prev, *d) {
		return server.ErrCodeUsed
	}
	if _, err := w.tx.Exec(w.ctx, `UPDATE devices SET token_hash = $1, label = $2, client = $3 WHERE id = $4`, d.TokenHash, d.Label, d.Client, prev.ID); err != nil {
		return fmt.Errorf("enroll: replace the device's token: %w", err)
	}
	prev.TokenHash, prev.Label, prev.Client = d.TokenHash, d.Label, d.Client
	*d = prev
	return nil
}
