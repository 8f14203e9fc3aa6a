package agent_test

import (
	"fmt"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func diffSnap(a, b map[syncproto.FieldKey]syncproto.Version) string {
	s := fmt.Sprintf("len %d vs %d\n", len(a), len(b))
	for k, v := range a {
		w, ok := b[k]
		if !ok {
			s += fmt.Sprintf("only in first: %s %s %v\n", k.Row.String()[:8], k.Field, v.Value)
		} else if w != v {
			s += fmt.Sprintf("differ: %s %s %v/%v %v/%v %v/%v\n", k.Row.String()[:8], k.Field, v.Value, w.Value, v.HLC, w.HLC, v.Dot.Seq, w.Dot.Seq)
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			s += fmt.Sprintf("only in second: %s %s %v\n", k.Row.String()[:8], k.Field, v.Value)
		}
	}
	return s
}

// withoutTombstoned is snap without the rows it holds deleted.
func withoutTombstoned(snap map[syncproto.FieldKey]syncproto.Version) map[syncproto.FieldKey]syncproto.Version {
	gone := map[syncproto.RowID]bool{}
	for k, v := range snap {
		if k.Field == syncproto.TombstoneField && v.Value.AsBool() {
			gone[k.Row] = true
		}
	}
	out := make(map[syncproto.FieldKey]syncproto.Version, len(snap))
	for k, v := range snap {
		if !gone[k.Row] {
			out[k] = v
		}
	}
	return out
}

// withoutBases is snap with every version's base cleared: collection
// clears the bases no device it counts needs (server/collect.go
// forgetBases), so a laptop that clones holds versions without the bases
// a laptop that pulled them keeps.
func withoutBases(snap map[syncproto.FieldKey]syncproto.Version) map[syncproto.FieldKey]syncproto.Version {
	out := make(map[syncproto.FieldKey]syncproto.Version, len(snap))
	for k, v := range snap {
		v.Base = syncproto.Dot{}
		out[k] = v
	}
	return out
}
