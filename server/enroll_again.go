package server

import (
	"database/sql"
	"errors"
	"fmt"
)

// Issue 14, defect 2: an enroll killed after the server answered (a closed
// lid, `| head -1`) leaves the code used and the laptop without its token.
// The same replica presenting the same code again, while the code has not
// expired, gets the device the code made, with a new token (the old one,
// never kept, stops working). Another replica is refused (code_used): the
// code is the secret, the replica id only tells the laptop it was given to.

// enrollAgain turns d into the device the used code enrolled, with d's
// token, label and client, when it is d's replica's and still active and
// the code is still valid; otherwise ErrCodeUsed.
func (w *sqliteTx) enrollAgain(usedBy string, d *Device, valid bool) error {
	if !valid || usedBy == "" {
		return ErrCodeUsed
	}
	row, err := w.queryRow(`SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id WHERE d.id = ?`, usedBy)
	if err != nil {
		return err
	}
	prev, err := scanDevice(row)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrCodeUsed
	}
	if err != nil {
		return fmt.Errorf("enroll: read the code's device: %w", err)
	}
	if !SameEnrollment(prev, *d) {
		return ErrCodeUsed
	}
	if _, err := w.exec(`UPDATE devices SET token_hash = ?, label = ?, client = ? WHERE id = ?`, d.TokenHash, d.Label, d.Client, prev.ID); err != nil {
		return fmt.Errorf("enroll: replace the device's token: %w", err)
	}
	prev.TokenHash, prev.Label, prev.Client = d.TokenHash, d.Label, d.Client
	*d = prev
	return nil
}

// SameEnrollment (both stores): d, asking with a used code, is the replica that code
// enrolled as prev, and prev still works.
func SameEnrollment(prev, d Device) bool {
	return prev.Replica == d.Replica && prev.Revoked == nil
}
