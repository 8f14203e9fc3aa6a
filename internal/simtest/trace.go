package simtest

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// The trace: one line per step, readable (what ran, what travelled, what
// a person or a fault did), in the order it happened, stamped with the
// step and the simulated time since the start. Two runs of one schedule
// write the same bytes (TestSameSeedSameTrace).
type tracer struct {
	buf   bytes.Buffer
	live  io.Writer // also written here as it happens (make sim)
	off   bool      // nothing kept (Config.NoTrace)
	start time.Time
	step  *int
	now   func() time.Time
}

func (t *tracer) printf(format string, args ...any) {
	if t.off {
		return
	}
	fmt.Fprintf(&t.buf, "%5d %9s  ", *t.step, fmtElapsed(t.now().Sub(t.start)))
	fmt.Fprintf(&t.buf, format, args...)
	t.buf.WriteByte('\n')
	if t.live != nil {
		// The line just written, as it is.
		b := t.buf.Bytes()
		i := bytes.LastIndexByte(b[:len(b)-1], '\n') + 1
		t.live.Write(b[i:])
	}
}

func fmtElapsed(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.3fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// short is a row id's first 8 hex digits: enough to follow a row in a trace.
func short(id syncproto.RowID) string { return id.String()[:8] }

// describe is one frame's content in a trace line.
func describe(m syncproto.Message) string {
	switch m := m.(type) {
	case *syncproto.Hello:
		return fmt.Sprintf("Hello schema=%d replica=%s", m.Schema, short(m.Replica))
	case *syncproto.Welcome:
		s := fmt.Sprintf("Welcome cursor=%d pushed=%d scope=%v", m.Cursor, m.PushedSeq, m.Scope)
		if m.Reclone {
			s += " reclone"
		}
		return s
	case *syncproto.Push:
		return fmt.Sprintf("Push batch=%d %s", m.Batch, changesText(m.Changes))
	case *syncproto.Ack:
		n := map[syncproto.ResultStatus]int{}
		codes := ""
		for _, r := range m.Results {
			n[r.Status]++
			if r.Code != "" && !strings.Contains(codes, string(r.Code)) {
				reason := r.Reason
				if len(reason) > 90 {
					reason = reason[:90] + "…"
				}
				codes += fmt.Sprintf(" %s (%s)", r.Code, reason)
			}
		}
		return fmt.Sprintf("Ack batch=%d applied=%d dup=%d superseded=%d refused=%d%s", m.Batch,
			n[syncproto.ResultApplied], n[syncproto.ResultDuplicate], n[syncproto.ResultSuperseded], n[syncproto.ResultRefused], codes)
	case *syncproto.Pull:
		s := fmt.Sprintf("Pull cursor=%d durable=%d", m.Cursor, m.Durable)
		if len(m.Scopes) > 0 {
			s += fmt.Sprintf(" scopes=%v", m.Scopes)
		}
		return s
	case *syncproto.Changes:
		s := fmt.Sprintf("Changes %d..%d %s", m.From, m.To, changesText(m.Changes))
		if len(m.Evict) > 0 {
			s += fmt.Sprintf(" evict=%d", len(m.Evict))
		}
		if m.More {
			s += " more"
		}
		if m.Horizon > 0 {
			s += fmt.Sprintf(" horizon=%d", m.Horizon)
		}
		return s
	case *syncproto.Notify:
		return fmt.Sprintf("Notify %d", m.Cursor)
	case *syncproto.SnapshotRequest:
		s := fmt.Sprintf("SnapshotRequest head=%d after=%s", m.Head, posText(m.After))
		if len(m.Scopes) > 0 {
			s += fmt.Sprintf(" scopes=%v", m.Scopes)
		}
		return s
	case *syncproto.SnapshotChunk:
		s := fmt.Sprintf("SnapshotChunk head=%d %s..%s fields=%d", m.Head, posText(m.From), posText(m.To), len(m.Rows))
		if m.More {
			s += " more"
		}
		return s
	case *syncproto.ErrorMsg:
		s := fmt.Sprintf("Error %s", m.Code)
		if m.Fatal {
			s += " fatal"
		}
		return s
	}
	return string(m.Type().String())
}

func posText(p syncproto.SnapshotPos) string {
	if p.Table == "" {
		return "start"
	}
	return p.Table + "/" + short(p.Row)
}

// changesText summarises a list of changes: how many, of how many rows,
// and the first few fields.
func changesText(cs []syncproto.Change) string {
	if len(cs) == 0 {
		return "[]"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "[%d:", len(cs))
	for i, c := range cs {
		if i == 4 {
			b.WriteString(" …")
			break
		}
		fmt.Fprintf(&b, " %s.%s.%s@%d", c.Table[:1], short(c.Row), c.Field, c.Dot.Seq)
	}
	b.WriteByte(']')
	return b.String()
}
