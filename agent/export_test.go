package agent

import (
	"context"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// StateValueBytes is, for the metadata benchmark, how many bytes of the
// replica's row_state blobs are copies of field values (the blob as
// stored, less the same blob with every value, current and past, nulled).
func StateValueBytes(ctx context.Context, r *Replica) (int64, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT id, tbl, scope, state FROM row_state`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var total int64
	for rows.Next() {
		var idText, table, scope string
		var blob []byte
		if err := rows.Scan(&idText, &table, &scope, &blob); err != nil {
			return 0, err
		}
		id, err := uuid.Parse(idText)
		if err != nil {
			return 0, err
		}
		s, err := decodeState(table, id, scope, blob)
		if err != nil {
			return 0, err
		}
		for _, v := range s.cur {
			v.Value = syncproto.Null()
		}
		for i := range s.hist {
			s.hist[i].Ver.Value = syncproto.Null()
		}
		bare, err := s.encode()
		if err != nil {
			return 0, err
		}
		total += int64(len(blob) - len(bare))
	}
	return total, rows.Err()
}
