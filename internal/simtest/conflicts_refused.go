package simtest

import (
	"fmt"
	"slices"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// noteRefused records, per laptop, its changes an Ack it received refused
// (a real refusal: not replica_forked, which a fork pushes again under a
// new id). A change some Ack answered otherwise since (a restored server
// that lost the refusal, or a copy of the folder whose push of the same
// dot it took) is in takenValues (checkAck), and exempt
// (checkRefusedNotLost).
func (s *Sim) noteRefused(l *link, ack *syncproto.Ack, changes []syncproto.Change) {
	for i := range ack.Results {
		r := &ack.Results[i]
		d := changes[i].Dot
		if r.Status == syncproto.ResultRefused && r.Code != syncproto.CodeReplicaForked {
			if s.answeredRefused == nil {
				s.answeredRefused = map[string]map[syncproto.Dot]bool{}
			}
			if s.answeredRefused[l.name] == nil {
				s.answeredRefused[l.name] = map[syncproto.Dot]bool{}
			}
			s.answeredRefused[l.name][d] = true
		}
	}
}

// checkRefusedNotLost: no laptop's conflict log lists as a loser a change
// of its own the server refused (and never took under that dot). A
// refusal goes to the rejected list with its reason, where the volunteer
// fixes or discards it; the server logged no conflict for it. Listed as
// lost too, she saw the same edit twice, offered to write it again, and
// the conflict outlived its discard (agent recordConflict; seed 8400022
// of the wide world).
func (s *Sim) checkRefusedNotLost() {
	for _, l := range s.laptops {
		if !running(l) || len(s.answeredRefused[l.name]) == 0 {
			continue
		}
		rows, err := l.rep.DB().QueryContext(s.ctx, `SELECT tbl, row_id, field, loser_replica, loser_seq FROM conflicts`)
		if err != nil {
			s.fail("read %s's conflict log: %v", l.name, err)
		}
		var bad []string
		for rows.Next() {
			var table, row, field string
			var lr []byte
			var ls int64
			if err := rows.Scan(&table, &row, &field, &lr, &ls); err != nil {
				s.fail("read %s's conflict log: %v", l.name, err)
			}
			d := syncproto.Dot{Seq: uint64(ls)}
			copy(d.Replica[:], lr)
			if _, taken := s.takenValues[d]; s.answeredRefused[l.name][d] && !taken {
				bad = append(bad, fmt.Sprintf("%s %s.%s lost as %s", table, row[:min(8, len(row))], field, dotText(d)))
			}
		}
		if err := rows.Err(); err != nil {
			s.fail("read %s's conflict log: %v", l.name, err)
		}
		rows.Close()
		if len(bad) > 0 {
			slices.Sort(bad)
			s.fail("%s's conflict log lists %d of its changes the server refused as lost: %s", l.name, len(bad), bad[0])
		}
	}
}
