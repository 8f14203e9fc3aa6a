package server

import (
	"errors"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The checks of a pushed batch that need no storage: each change against
// the schema (precheck), and each row's changes as one write (planRows).
// They run in the pushing session, outside the committer's transaction.

// checked is a change after the checks that need no storage.
type checked struct {
	code syncproto.Code // non-empty: refuse with this code
	why  syncproto.Why  // and this reason (internal/refusal)
}

// precheck validates a change against the schema: pure, outside the
// transaction. A value must arrive already normalised. The rules that need
// the row as a whole (a new row's required fields, who may write a field)
// are judged per row (planRows).
func precheck(c *syncproto.Change, today string) checked {
	t, ok := schema.LookupTable(c.Table)
	if !ok {
		return checked{syncproto.CodeUnknownTable, refusal.Why(schema.CodeUnknownTable, "table", c.Table)}
	}
	if _, ok := t.Field(c.Field); !ok {
		return checked{syncproto.CodeUnknownField, refusal.Why(schema.CodeUnknownField, "table", c.Table, "field", c.Field)}
	}
	if c.Row == (syncproto.RowID{}) {
		return checked{syncproto.CodeInvalidValue, refusal.Why(refusal.NilRow, "table", c.Table)}
	}
	norm, err := t.CheckWrite(schema.Write{Fields: map[string]any{c.Field: c.Value.Any()}, Today: today})
	if err != nil {
		return refusalOf(c, err)
	}
	v, err := syncproto.ValueOf(norm[c.Field])
	if err != nil {
		return checked{syncproto.CodeInvalidValue, refusal.Why(refusal.Invalid, "table", c.Table, "field", c.Field)}
	}
	if v.Kind() != c.Value.Kind() && !c.Value.IsNull() && !v.IsNull() {
		// A bool sent as 0/1, a time as a float: the schema reads it, but
		// every replica must hold the same value under the same dot.
		return checked{syncproto.CodeInvalidValue, wrongType(c.Table, c.Field, c.Value.Kind())}
	}
	// Rewriting the value here would leave the sender holding a different
	// value under the same dot than every other replica: refuse instead, so
	// the volunteer sees it in 'rejected'. Hamlet's agent normalises with the
	// same schema before it writes, so this only catches foreign clients.
	if v != c.Value {
		return checked{syncproto.CodeInvalidValue, refusal.Why(refusal.NotCanonical, "table", c.Table, "field", c.Field)}
	}
	return checked{}
}

var kindNames = [...]string{syncproto.KindNull: "null", syncproto.KindBool: "bool", syncproto.KindInt: "int",
	syncproto.KindFloat: "float", syncproto.KindString: "string"}

func kindName(k syncproto.Kind) string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

func wrongType(table, field string, got syncproto.Kind) syncproto.Why {
	return refusal.Why(schema.CodeWrongType, "table", table, "field", field, "want", schema.ExpectedType(table, field), "got", kindName(got))
}

// refusalOf turns a schema verdict on a change into its refusal. The
// reason is built from the code and the field's rules only: no value leaks.
func refusalOf(c *syncproto.Change, err error) checked {
	var ve *schema.ValidationError
	if !errors.As(err, &ve) {
		return checked{syncproto.CodeInvalidValue, refusal.Why(refusal.Invalid, "table", c.Table, "field", c.Field)}
	}
	switch ve.Code {
	case schema.CodeWrongType:
		// want/got name a kind mismatch only; a value of the right kind in
		// the wrong form (a photo list that is not one) is refused by its
		// code, whose message says so.
		if schema.ExpectedType(c.Table, ve.Field) != kindName(c.Value.Kind()) {
			return checked{syncproto.CodeInvalidValue, wrongType(c.Table, ve.Field, c.Value.Kind())}
		}
	case schema.CodeRequired:
		if ve.Field != c.Field { // judged on the row: the batch lacks a field
			return checked{syncproto.CodeInvalidValue, refusal.Why(refusal.RequiredInNewRow, "table", ve.Table, "field", ve.Field)}
		}
	}
	return checked{syncproto.CodeInvalidValue, refusal.Why(ve.Code, "table", ve.Table, "field", ve.Field)}
}

// rowPlan is what one batch writes to one row, judged outside the
// transaction by the same schema.Table.CheckWrite the agent runs: the
// verdict on the row if it turns out to be new, and on each change if it
// exists. Whether it is new is known only in the transaction (judgeRows).
type rowPlan struct {
	idx    []int  // the batch's own changes to the row, in order
	hamlet string // hamlet_code as the batch leaves it: a new row's hamlet
	parent int    // the change that names the row's household, or -1
	create checked
	edit   map[int]checked // changes the writer may not make to an existing row
}

// planRows groups a batch's own changes by row and judges each group as
// one write. A new row stands or falls whole: it must arrive in one push
// (the agent never splits a row's write across pushes), and a change of it
// refused alone (precheck) refuses the rest with the same reason.
func planRows(p pusher, changes []syncproto.Change, pre []checked, today string, only func(i int) bool) map[RowRef]*rowPlan {
	plans := map[RowRef]*rowPlan{}
	for i := range changes {
		c := &changes[i]
		if c.Dot.Replica != p.replica || (only != nil && !only(i)) {
			continue
		}
		if _, ok := schema.LookupTable(c.Table); !ok {
			continue
		}
		k := RowRef{c.Table, c.Row}
		pl := plans[k]
		if pl == nil {
			pl = &rowPlan{parent: -1}
			plans[k] = pl
		}
		pl.idx = append(pl.idx, i)
	}
	for k, pl := range plans {
		t, _ := schema.LookupTable(k.Table)
		fields := make(map[string]any, len(pl.idx))
		for _, i := range pl.idx {
			c := &changes[i]
			if pre[i].code != "" {
				if pl.create.code == "" {
					pl.create = pre[i]
				}
				continue
			}
			fields[c.Field] = c.Value.Any()
			switch {
			case c.Field == schema.ScopeField:
				pl.hamlet = c.Value.AsString()
			case c.Field == "household_id" && k.Table != "households":
				pl.parent = i
			}
		}
		if pl.create.code == "" {
			if _, err := t.CheckWrite(schema.Write{Create: true, Fields: fields, Writer: p.writer, Today: today}); err != nil {
				pl.create = refusalOf(&changes[pl.idx[0]], err)
				var ve *schema.ValidationError
				if errors.As(err, &ve) && ve.Field != "" {
					for _, i := range pl.idx {
						if changes[i].Field == ve.Field {
							pl.create = refusalOf(&changes[i], err)
							break
						}
					}
				}
			}
		}
		if p.writer == 0 {
			continue
		}
		for _, i := range pl.idx {
			c := &changes[i]
			if f, _ := t.Field(c.Field); pre[i].code != "" || f.WrittenBy == 0 {
				continue // precheck ran the same check on it
			}
			if _, err := t.CheckWrite(schema.Write{Fields: map[string]any{c.Field: c.Value.Any()}, Writer: p.writer, Today: today}); err != nil {
				if pl.edit == nil {
					pl.edit = map[int]checked{}
				}
				pl.edit[i] = refusalOf(c, err)
			}
		}
	}
	return plans
}
