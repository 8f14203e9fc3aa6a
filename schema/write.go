package schema

import (
	"sort"
	"sync/atomic"
	"time"
)

// Writer is who writes a synced row. Some fields are not everyone's to
// write (Field.WrittenBy): a volunteer files a field report, coordinators
// move it through its statuses.
type Writer uint8

const (
	// WriterVolunteer is a team member's device, a team leader's too.
	WriterVolunteer Writer = iota + 1
	// WriterCoordinator is the report workflow on the server and an
	// operator's import.
	WriterCoordinator
)

// Write is one writer's write of some fields of one row: what the agent
// saves in one local write, or what one push carries for one row.
type Write struct {
	// Create: the row is new, so the write must carry every required field
	// (only its hamlet if it also deletes the row). An edit only must not
	// clear one.
	Create bool
	// Fields are the values written, by field name, without "id".
	Fields map[string]any
	// Writer decides which fields may be written; zero applies no such rule.
	Writer Writer
	// Today is the writer's date in Vietnam ("YYYY-MM-DD"), read from a
	// clock the caller trusts: dates and times after the following day are
	// refused (a visit dated 2030 is a typing slip or a broken clock).
	// Empty: no bound.
	Today string
}

// CheckWrite is the one validation of a write, run by the agent before it
// saves and by the server before it applies a push: every value normalised
// (NormalizeValue), the required fields of a new row present, the writer's
// right to each field (Field.WrittenBy), and no date past tomorrow. It
// returns the normalised values, or the first problem in the table's field
// order (unknown fields first), so the same write always yields the same
// error.
func (t *Table) CheckWrite(w Write) (map[string]any, error) {
	return t.CheckWriteInto(w, nil)
}

// CheckWriteInto is CheckWrite writing the normalised values into out
// (cleared first; a new map when nil) and returning it: a caller checking
// many rows one after another (an import) reuses one map.
func (t *Table) CheckWriteInto(w Write, out map[string]any) (map[string]any, error) {
	if out == nil {
		out = make(map[string]any, len(w.Fields))
	}
	clear(out)
	if w.Create {
		if err := t.validateRowInto(w.Fields, out); err != nil {
			return nil, err
		}
	} else {
		var unknown []string
		for name := range w.Fields {
			if _, ok := t.Field(name); !ok {
				unknown = append(unknown, name)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return nil, verr(t.Name, unknown[0], CodeUnknownField, "table %s has no field %q", t.Name, unknown[0])
		}
		for i := 0; i <= len(t.Fields); i++ {
			f := t.orderedAt(i)
			v, ok := w.Fields[f.Name]
			if !ok {
				continue
			}
			nv, err := f.normalize(t.Name, v)
			if err != nil {
				return nil, err
			}
			out[f.Name] = nv
		}
	}
	var limit string
	var limitMs int64
	if w.Today != "" {
		var err error
		if limit, limitMs, err = dateLimits(w.Today); err != nil {
			return nil, verr(t.Name, "", CodeInvalidDate, "today is not a YYYY-MM-DD date (%s)", Shape(w.Today))
		}
	}
	for i := 0; i <= len(t.Fields); i++ {
		f := t.orderedAt(i)
		v, ok := out[f.Name]
		if !ok {
			continue
		}
		if f.WrittenBy != 0 && w.Writer != 0 && w.Writer != f.WrittenBy {
			filed := w.Create && (v == nil || f.FiledAs != "" && v == f.FiledAs)
			if !filed {
				return nil, verr(t.Name, f.Name, CodeReadOnly, "written by writer %d only", f.WrittenBy)
			}
		}
		if limit == "" || v == nil {
			continue
		}
		switch f.Type {
		case TypeDate:
			if s := v.(string); s > limit {
				return nil, verr(t.Name, f.Name, CodeInFuture, "after %s, the day after today", limit)
			}
		case TypeTime:
			if ms := v.(int64); ms >= limitMs {
				return nil, verr(t.Name, f.Name, CodeInFuture, "after %s, the day after today", limit)
			}
		}
	}
	return out, nil
}

// orderedAt is the i-th of the table's fields, then the tombstone
// (i == len(t.Fields)).
func (t *Table) orderedAt(i int) *Field {
	if i < len(t.Fields) {
		return &t.Fields[i]
	}
	return &deletedField
}

// dateLimits are the last date and the first unix millisecond past
// tomorrow, for today (YYYY-MM-DD in Vietnam). The last day asked is kept:
// a device checks every write of a day, an import thousands of rows,
// against the same day.
func dateLimits(today string) (string, int64, error) {
	if l := lastLimits.Load(); l != nil && l.today == today {
		return l.limit, l.limitMs, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, today, vietnam)
	if err != nil {
		return "", 0, err
	}
	l := &limits{today: today, limit: d.AddDate(0, 0, 1).Format(time.DateOnly), limitMs: d.AddDate(0, 0, 2).UnixMilli()} // the end of tomorrow
	lastLimits.Store(l)
	return l.limit, l.limitMs, nil
}

type limits struct {
	today, limit string
	limitMs      int64
}

var lastLimits atomic.Pointer[limits]

// vietnam is UTC+7 all year: a date is the hamlet's calendar day.
var vietnam = time.FixedZone("ICT", 7*3600)

// Today is the date in Vietnam at the instant now: Write.Today from the
// caller's clock.
func Today(now time.Time) string { return now.In(vietnam).Format(time.DateOnly) }
