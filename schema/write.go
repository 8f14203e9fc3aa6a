package schema

import (
	"sort"
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
	var out map[string]any
	if w.Create {
		n, err := t.ValidateRow(w.Fields)
		if err != nil {
			return nil, err
		}
		out = n
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
		out = make(map[string]any, len(w.Fields))
		for _, f := range t.ordered() {
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
		d, err := time.ParseInLocation(time.DateOnly, w.Today, vietnam)
		if err != nil {
			return nil, verr(t.Name, "", CodeInvalidDate, "today %q is not a YYYY-MM-DD date", clip(w.Today))
		}
		limit = d.AddDate(0, 0, 1).Format(time.DateOnly)
		limitMs = d.AddDate(0, 0, 2).UnixMilli() // the end of tomorrow
	}
	for _, f := range t.ordered() {
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
				return nil, verr(t.Name, f.Name, CodeInFuture, "%s is after %s, the day after today", s, limit)
			}
		case TypeTime:
			if ms := v.(int64); ms >= limitMs {
				return nil, verr(t.Name, f.Name, CodeInFuture, "unix ms %d is after %s, the day after today", ms, limit)
			}
		}
	}
	return out, nil
}

// ordered is the table's fields, then the tombstone.
func (t *Table) ordered() []*Field {
	out := make([]*Field, 0, len(t.Fields)+1)
	for i := range t.Fields {
		out = append(out, &t.Fields[i])
	}
	return append(out, &deletedField)
}

// vietnam is UTC+7 all year: a date is the hamlet's calendar day.
var vietnam = time.FixedZone("ICT", 7*3600)

// Today is the date in Vietnam at the instant now: Write.Today from the
// caller's clock.
func Today(now time.Time) string { return now.In(vietnam).Format(time.DateOnly) }
