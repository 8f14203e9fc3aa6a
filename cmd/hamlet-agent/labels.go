package main

import (
	"context"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
)

// What a volunteer reads instead of the data's own names: labels from the
// schema's catalogue, times in Vietnam's zone, writers by name.

// fieldName is a field as people call it, capitalised: "Tên chủ hộ".
func (e *env) fieldName(field string) string {
	if field == schema.DeletedField {
		return e.tr("Đã xóa", "Deleted")
	}
	return capitalize(schema.FieldLabel(field, e.lang))
}

// tableName is a table as people call it: "Hộ gia đình".
func (e *env) tableName(table string) string { return schema.TableLabel(table, e.lang) }

// value is a field's value as people read it: labels for enum values,
// "có"/"không", dates as dd/mm/yyyy, times in Vietnam's zone; "-" for none.
func (e *env) value(table, field string, v any) string {
	if v == nil {
		return "-"
	}
	if code, ok := v.(string); ok && field == "hamlet_code" {
		return e.hamletLabel(code)
	}
	if t, ok := schema.LookupTable(table); ok {
		if f, ok := t.Field(field); ok && f.Type == schema.TypeTime {
			if ms, ok := v.(int64); ok {
				return i18n.DateTime(time.UnixMilli(ms), e.lang)
			}
		}
	}
	return schema.ValueLabel(table, field, v, e.lang)
}

// hamletLabel is a hamlet as the volunteer knows it, "Khóm 1 (32002-01)"
// (Enrollment.HamletLabel), or its code where the laptop knows no name or
// no replica is open.
func (e *env) hamletLabel(code string) string {
	if e.replica == nil {
		return code
	}
	en, err := e.replica.Enrollment(context.Background())
	if err != nil || en == nil {
		return code
	}
	return en.HamletLabel(code)
}

// when is a moment in a table whose header says the zone (zoneHeader).
func (e *env) when(t time.Time) string { return i18n.DateTimeBare(t, e.lang) }

// zoneHeader adds the zone to a column header: "LÚC (UTC+7)".
func zoneHeader(h string) string { return i18n.WithZone(h) }

// date is a stored date ("2026-12-01") as people write it.
func (e *env) date(s string) string { return i18n.DateText(s, e.lang) }

// writers names who writes with each replica: the team's roster (fetched
// at enrollment and at each sync), this laptop, the server's coordinators.
type writers struct {
	e      *env
	byID   map[string]string
	server map[string]bool // the server's writers (agent.Replica.ServerWriters)
}

func (e *env) writers(ctx context.Context) *writers {
	w := &writers{e: e, byID: map[string]string{}}
	if e.replica == nil {
		return w
	}
	if ws, err := e.replica.Writers(ctx); err == nil {
		for id, x := range ws {
			w.byID[id] = x.Name
		}
	}
	w.server = e.replica.ServerWriters(ctx)
	return w
}

// name is the writer of a change from replica origin.
func (w *writers) name(origin string, mine bool) string {
	switch {
	case mine:
		return w.e.tr("máy này", "this laptop")
	case w.byID[origin] != "":
		return w.byID[origin]
	case origin != "" && w.server[origin]:
		return capitalize(i18n.Coordinator.In(w.e.lang))
	}
	return w.e.tr("máy khác ", "another laptop ") + short(origin)
}

func capitalize(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}

// teamName is a team's name in a sentence: names start with "Tổ" ("Tổ
// CNSCĐ Khóm 1"), so the sentence does not say "tổ" again; a name that
// does not gets it ("tổ Khóm 1").
func teamName(e *env, name string) string {
	if f := strings.Fields(name); len(f) > 0 && (strings.EqualFold(f[0], "tổ") || strings.EqualFold(f[0], "team")) {
		return name
	}
	return e.tr("tổ ", "team ") + name
}
