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
			markDot(&s.answeredRefused, l.name, d)
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
		var bad []string
		for _, c := range s.laptopLosses(l) {
			if _, taken := s.takenValues[c.loser]; s.answeredRefused[l.name][c.loser] && !taken {
				bad = append(bad, fmt.Sprintf("%s %s.%s lost as %s", c.table, c.row[:min(8, len(c.row))], c.field, dotText(c.loser)))
			}
		}
		if len(bad) > 0 {
			slices.Sort(bad)
			s.fail("%s's conflict log lists %d of its changes the server refused as lost: %s", l.name, len(bad), bad[0])
		}
	}
}

// markDot adds d to laptop's set in sets, making what is missing.
func markDot(sets *map[string]map[syncproto.Dot]bool, laptop string, d syncproto.Dot) {
	if *sets == nil {
		*sets = map[string]map[syncproto.Dot]bool{}
	}
	if (*sets)[laptop] == nil {
		(*sets)[laptop] = map[syncproto.Dot]bool{}
	}
	(*sets)[laptop][d] = true
}

// laptopLoss is a conflict of a laptop's log: its row's field and the
// write that lost there.
type laptopLoss struct {
	table, row, field string
	loser             syncproto.Dot
}

// laptopLosses reads l's conflict log.
func (s *Sim) laptopLosses(l *laptop) []laptopLoss {
	rows, err := l.rep.DB().QueryContext(s.ctx, `SELECT tbl, row_id, field, loser_replica, loser_seq FROM conflicts`)
	if err != nil {
		s.fail("read %s's conflict log: %v", l.name, err)
	}
	defer rows.Close()
	var out []laptopLoss
	for rows.Next() {
		var c laptopLoss
		var lr []byte
		var ls int64
		if err := rows.Scan(&c.table, &c.row, &c.field, &lr, &ls); err != nil {
			s.fail("read %s's conflict log: %v", l.name, err)
		}
		c.loser = syncproto.Dot{Seq: uint64(ls)}
		copy(c.loser.Replica[:], lr)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		s.fail("read %s's conflict log: %v", l.name, err)
	}
	return out
}
