package refusal

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Keys beyond the schema's validation codes (schema.Code*, whose
// parameters are table and field, and for wrong_type also want and got).
const (
	// NotOwnReplica: a device pushed a change of another replica.
	NotOwnReplica = "not_own_replica"
	// NilRow: the row id is the nil UUID. Params: table.
	NilRow = "nil_row"
	// Invalid: the value could not be read. Params: table, field.
	Invalid = "invalid"
	// NotCanonical: the value is not in the schema's canonical form.
	// Params: table, field.
	NotCanonical = "not_canonical"
	// RequiredInNewRow: a new row lacks a required field in the same push.
	// Params: table, field (the missing one).
	RequiredInNewRow = "required_in_new_row"
	// Moved: the household moved out of the device's scope before the
	// change was made. Params: household, from, to, at (RFC 3339, UTC).
	Moved = "moved"
	// HamletRemoved: the hamlet left the device's team before the change
	// was made. Params: hamlet, at.
	HamletRemoved = "hamlet_removed"
	// NotInScope: the row's hamlet is not the device's. Params: hamlet.
	NotInScope = "not_in_scope"
	// ParentNotInScope: a new row hangs on a household of a hamlet not the
	// device's. Params: household, hamlet, table.
	ParentNotInScope = "parent_not_in_scope"
	// HouseholdMissing: a row names a household the server never took (its
	// adding was refused). Params: household, table.
	HouseholdMissing = "household_missing"
	// RestoreIncomplete: a restore would make live a row the server holds
	// without a required field (its adding was refused, its delete taken).
	// Params: table, row, field (a missing one).
	RestoreIncomplete = "restore_incomplete"
	// MoveOutOfScope: a row may move to a hamlet outside the team's only by
	// that hamlet's team or a coordinator. Params: table, to.
	MoveOutOfScope = "move_out_of_scope"
	// Forked: the change reached the server from another copy of the
	// replica's data folder. Params: seq.
	Forked = "replica_forked"
	// Collected: the row was deleted on the server and then collected
	// before the change arrived. Params: table, row.
	Collected = "collected"
	// NewerField: a field the pushing agent's schema does not have, refused
	// for another reason. Params: table, field, added_in, agent, and the
	// refusal's own key (cause) and parameters.
	NewerField = "newer_field"
)

// Why builds a reason; params alternate names and values.
func Why(key string, params ...string) syncproto.Why {
	w := syncproto.Why{Key: key}
	if len(params) > 0 {
		w.Params = make(map[string]string, len(params)/2)
		for i := 0; i+1 < len(params); i += 2 {
			w.Params[params[i]] = params[i+1]
		}
	}
	return w
}

// At is how a time travels as a parameter.
func At(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Text renders a refusal's reason in lang ("vi" unless English is asked
// for). A key this build does not know falls back to the code's text,
// with the key, so nothing is lost.
func Text(code syncproto.Code, w syncproto.Why, lang string) string {
	return TextNamed(code, w, lang, nil)
}

// TextNamed is Text with the hamlets named as the reader knows them
// (hamlet: a code to its label, "Khóm 2 (32002-02)"; nil: the codes): a
// volunteer knows her hamlets by name, and the server sends codes.
func TextNamed(code syncproto.Code, w syncproto.Why, lang string, hamlet func(string) string) string {
	p := func(k string) string {
		v := w.Params[k]
		if hamlet != nil && v != "" && (k == "hamlet" || k == "from" || k == "to") {
			return hamlet(v)
		}
		return v
	}
	pick := func(vi, en string) string { return i18n.Pick(lang, vi, en) }
	when := func(k string) string {
		t, err := time.Parse(time.RFC3339, p(k))
		if err != nil {
			return p(k)
		}
		return i18n.DateTime(t, lang)
	}
	ve := func(code string) string {
		return (&schema.ValidationError{Table: p("table"), Field: p("field"), Code: code}).Message(lang)
	}
	switch w.Key {
	case NotOwnReplica:
		return pick("Máy chỉ được gửi thay đổi do chính nó ghi.", "A device may push only changes made on its own replica.")
	case NilRow:
		return pick("Mã bản ghi trống (UUID toàn số 0): bản ghi này không gửi được.", "The record id is the nil UUID: this record cannot be sent.")
	case Invalid:
		return pick("Giá trị không đọc được: hãy nhập lại.", "The value cannot be read: please enter it again.")
	case NotCanonical:
		return pick("Giá trị chưa ở dạng chuẩn (chữ NFC, bỏ khoảng trắng thừa, số điện thoại dạng 0XXXXXXXXX): hãy nhập lại.",
			"The value is not in canonical form (NFC text, trimmed, phone as 0XXXXXXXXX): please enter it again.")
	case RequiredInNewRow:
		return pick("Bản ghi mới phải có đủ các trường bắt buộc trong cùng một lần gửi. ", "A new record must carry every required field in the same push. ") +
			ve(schema.CodeRequired)
	case Moved:
		return pick(fmt.Sprintf("Hộ %s đã chuyển từ ấp/khóm %s sang ấp/khóm %s lúc %s; thay đổi này được ghi sau đó, và ấp/khóm %s không thuộc phạm vi của máy này.",
			p("household"), p("from"), p("to"), when("at"), p("to")),
			fmt.Sprintf("Household %s moved from hamlet %s to hamlet %s at %s; this change was made after the move, and hamlet %s is not in this device's scope.",
				p("household"), p("from"), p("to"), when("at"), p("to")))
	case HamletRemoved:
		return pick(fmt.Sprintf("Ấp/khóm %s đã được bỏ khỏi tổ của máy này lúc %s; thay đổi này được ghi sau đó.", p("hamlet"), when("at")),
			fmt.Sprintf("Hamlet %s was removed from this device's team at %s; this change was made after that.", p("hamlet"), when("at")))
	case NotInScope:
		return pick(fmt.Sprintf("Ấp/khóm %s không thuộc phạm vi của máy này.", p("hamlet")),
			fmt.Sprintf("Hamlet %s is not in this device's scope.", p("hamlet")))
	case ParentNotInScope:
		return pick(fmt.Sprintf("Hộ %s thuộc ấp/khóm %s, không thuộc phạm vi của máy này: bản ghi của hộ này do tổ phụ trách ấp/khóm %s ghi.", p("household"), p("hamlet"), p("hamlet")),
			fmt.Sprintf("Household %s is in hamlet %s, which is not in this device's scope: its records belong to the team that covers %s.", p("household"), p("hamlet"), p("hamlet")))
	case HouseholdMissing:
		return pick(fmt.Sprintf("Hộ %s chưa có trên máy chủ (việc thêm hộ bị từ chối): bản ghi này chưa gắn được vào hộ đó. Hãy sửa và gửi lại hộ đó (trong danh sách bị từ chối): bản ghi này sẽ được gửi lại cùng với hộ.", p("household")),
			fmt.Sprintf("Household %s is not on the server yet (adding it was refused): this record cannot be attached to it yet. Fix and send the household again (in the rejected list): this record goes again with it.", p("household")))
	case RestoreIncomplete:
		return pick(fmt.Sprintf("Bản ghi %s trên máy chủ chưa đủ (thiếu «%s», thường vì việc thêm bản ghi đã bị từ chối): khôi phục lúc này sẽ để lại một bản ghi không đủ. Hãy sửa và gửi lại bản ghi đó (trong danh sách bị từ chối): việc khôi phục sẽ được gửi lại cùng.", p("row"), schema.FieldLabel(p("field"), "vi")),
			fmt.Sprintf("Record %s is not whole on the server (it lacks «%s», usually because adding the record was refused): restoring it now would leave a partial record. Fix and send the record again (in the rejected list): the restore goes again with it.", p("row"), schema.FieldLabel(p("field"), "en")))
	case MoveOutOfScope:
		return pick(fmt.Sprintf("Ấp/khóm %s không thuộc phạm vi của máy này: chỉ máy của tổ phụ trách ấp/khóm %s hoặc cán bộ điều phối mới chuyển được bản ghi sang đó.", p("to"), p("to")),
			fmt.Sprintf("Hamlet %s is not in this device's scope: only a device of the team that covers %s, or a coordinator, can move a record there.", p("to"), p("to")))
	case Forked:
		return pick(fmt.Sprintf("Thay đổi %s của máy này đến máy chủ từ một bản sao khác của thư mục dữ liệu: hãy cập nhật hamlet-agent, máy sẽ tiếp tục với mã bản sao mới.", p("seq")),
			fmt.Sprintf("This replica's change %s reached the server from another copy of its data folder: update hamlet-agent, which continues under a new replica id.", p("seq")))
	case Collected:
		return pick(fmt.Sprintf("Bản ghi %s đã bị xoá trên máy chủ và đã được dọn đi trước khi thay đổi này đến: thay đổi không được áp dụng. Nếu bản ghi vẫn cần, hãy tạo lại.", p("row")),
			fmt.Sprintf("Record %s was deleted on the server and removed before this change arrived: the change was not applied. If the record is still needed, create it again.", p("row")))
	case NewerField:
		inner := syncproto.Why{Key: p("cause"), Params: w.Params}
		return pick(fmt.Sprintf("Trường %s.%s có từ lược đồ dữ liệu %s, máy này chạy lược đồ %s: nó chỉ chuyển tiếp giá trị đã nhận, và giá trị này bị từ chối. ",
			p("table"), p("field"), p("added_in"), p("agent")),
			fmt.Sprintf("Field %s.%s was added in data schema %s and this agent runs schema %s: it can only pass on a value it received, and this one is refused. ",
				p("table"), p("field"), p("added_in"), p("agent"))) + Text(code, inner, lang)
	case schema.CodeWrongType:
		s := ve(schema.CodeWrongType)
		if p("want") != "" {
			s += pick(fmt.Sprintf(" (cần %s, nhận %s)", p("want"), p("got")), fmt.Sprintf(" (wants %s, got %s)", p("want"), p("got")))
		}
		return s
	case schema.CodeRequired, schema.CodeTooLong, schema.CodeOutOfRange, schema.CodeUnknownEnum, schema.CodeInvalidPhone,
		schema.CodeInvalidDate, schema.CodeInvalidUUID, schema.CodeInvalidHamlet, schema.CodeUnknownField, schema.CodeUnknownTable,
		schema.CodeReadOnly, schema.CodeInFuture:
		return ve(w.Key)
	}
	if w.Key == "" {
		return string(code)
	}
	return pick("Máy chủ từ chối thay đổi này ("+string(code)+": "+w.Key+"). Hãy cập nhật Hamlet để xem chi tiết.",
		"The server refused this change ("+string(code)+": "+w.Key+"). Update Hamlet to see why.")
}

// stored marks a reason kept as data (Store, Load).
const stored = "why:"

// Store is how a refusal's reason is kept where a text was kept before
// (the server's sync_refused.reason, the agent's outbox.reason): its key
// and parameters, so a refusal answered again or listed later is rendered
// in the reader's language.
func Store(w syncproto.Why) string {
	if w.IsZero() {
		return ""
	}
	var b strings.Builder
	b.WriteString(stored)
	b.WriteString(strconv.Quote(w.Key))
	keys := make([]string, 0, len(w.Params))
	for k := range w.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString(" " + strconv.Quote(k) + "=" + strconv.Quote(w.Params[k]))
	}
	return b.String()
}

// Load reads what Store wrote; any other text (a reason kept before
// reasons were data) is returned as text, with no Why.
func Load(s string) (syncproto.Why, string) {
	rest, ok := strings.CutPrefix(s, stored)
	if !ok {
		return syncproto.Why{}, s
	}
	var w syncproto.Why
	key, rest, ok := unquote(rest)
	if !ok || key == "" {
		return syncproto.Why{}, s
	}
	w.Key = key
	for strings.HasPrefix(rest, " ") {
		var k, v string
		if k, rest, ok = unquote(rest[1:]); !ok || !strings.HasPrefix(rest, "=") {
			return syncproto.Why{}, s
		}
		if v, rest, ok = unquote(rest[1:]); !ok {
			return syncproto.Why{}, s
		}
		if w.Params == nil {
			w.Params = map[string]string{}
		}
		w.Params[k] = v
	}
	if rest != "" {
		return syncproto.Why{}, s
	}
	return w, ""
}

func unquote(s string) (string, string, bool) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", s, false
	}
	v, err := strconv.Unquote(q)
	return v, s[len(q):], err == nil
}

// Compat is Result.Reason for clients that read only it: the Vietnamese
// text, after the schema's code for a validation refusal (clients before
// reasons were data find the field at fault by that prefix).
func Compat(code syncproto.Code, w syncproto.Why) string {
	t := Text(code, w, "vi")
	if w.Key == RequiredInNewRow {
		return schema.CodeRequired + ": " + t
	}
	if schemaCode(w.Key) {
		return w.Key + ": " + t
	}
	return t
}

func schemaCode(k string) bool {
	switch k {
	case schema.CodeRequired, schema.CodeWrongType, schema.CodeTooLong, schema.CodeOutOfRange, schema.CodeUnknownEnum,
		schema.CodeInvalidPhone, schema.CodeInvalidDate, schema.CodeInvalidUUID, schema.CodeInvalidHamlet, schema.CodeUnknownField,
		schema.CodeUnknownTable, schema.CodeReadOnly, schema.CodeInFuture, RequiredInNewRow:
		return true
	}
	return false
}
