package syncproto

import (
	"fmt"
	"strings"
)

// SchemaAdvice is what a version_mismatch about the data schema says: the
// agent's schema, the range the server accepts, and where the volunteer
// gets a build that fits. It travels as the Msg of the Error (docs/
// PROTOCOL.md, "Schema evolution"), in a fixed form that ParseSchemaAdvice
// reads back, so no wire field was added for it and an older agent still
// shows the message text.
type SchemaAdvice struct {
	Agent    int    // the agent's schema (Hello.Schema)
	Min, Max int    // what the server accepts
	Update   string // where to get hamlet-agent (a URL or a command); may be empty
}

const schemaAdviceForm = "schema: agent %d, server accepts %d..%d"

// TooOld reports whether the agent must be updated (else the server must).
func (a SchemaAdvice) TooOld() bool { return a.Agent < a.Min }

// Err is the protocol error carrying the advice.
func (a SchemaAdvice) Err() *Error {
	msg := fmt.Sprintf(schemaAdviceForm, a.Agent, a.Min, a.Max)
	if a.TooOld() {
		msg += fmt.Sprintf("; update hamlet-agent to a build with schema %d or later", a.Min)
	} else {
		msg += fmt.Sprintf("; the operator must update hamlet-server to schema %d or later", a.Agent)
	}
	if a.Update != "" {
		msg += "; update: " + a.Update
	}
	return &Error{Code: CodeVersionMismatch, Msg: msg}
}

// The refusals of servers built before SchemaAdvice (schema 1): an agent
// updated before its server still learns that the server is the one to
// update.
const (
	legacyNewer = "the agent's data schema %d is newer than this server's (%d)"
	legacyOlder = "the agent's data schema %d is older than the oldest this server accepts (%d)"
)

// ParseSchemaAdvice reads the advice back from an Error's Msg.
func ParseSchemaAdvice(msg string) (SchemaAdvice, bool) {
	var a SchemaAdvice
	if _, err := fmt.Sscanf(msg, legacyNewer, &a.Agent, &a.Max); err == nil {
		return SchemaAdvice{Agent: a.Agent, Min: 1, Max: a.Max}, true
	}
	if _, err := fmt.Sscanf(msg, legacyOlder, &a.Agent, &a.Min); err == nil {
		return SchemaAdvice{Agent: a.Agent, Min: a.Min, Max: a.Min}, true
	}
	if _, err := fmt.Sscanf(msg, schemaAdviceForm, &a.Agent, &a.Min, &a.Max); err != nil {
		return SchemaAdvice{}, false
	}
	if _, u, ok := strings.Cut(msg, "; update: "); ok {
		a.Update = strings.TrimSpace(u)
	}
	return a, true
}

// Hint tells the volunteer (lang "vi", the default) or an operator ("en")
// exactly what to update: what Hint(CodeVersionMismatch) says in general,
// with the versions and where to get the update.
func (a SchemaAdvice) Hint(lang string) string {
	en := lang == "en"
	if !a.TooOld() {
		if en {
			return fmt.Sprintf("The server is older than this laptop's Hamlet (data schema %d, the server knows up to %d). Tell IT staff to update hamlet-server. Your data is safe on this laptop.", a.Agent, a.Max)
		}
		return fmt.Sprintf("Máy chủ cũ hơn Hamlet trên máy này (phiên bản dữ liệu %d, máy chủ chỉ biết đến %d). Hãy báo cán bộ CNTT cập nhật hamlet-server. Dữ liệu trên máy vẫn an toàn.", a.Agent, a.Max)
	}
	where := "ask your team leader or IT staff for it"
	whereVI := "hỏi tổ trưởng hoặc cán bộ CNTT"
	if a.Update != "" {
		where, whereVI = "get it at: "+a.Update, "tải tại: "+a.Update
	}
	if en {
		return fmt.Sprintf("This laptop's Hamlet is too old for the server: hamlet-agent has data schema %d, the server needs %d or later. Install hamlet-agent with schema %d (%s), then run: hamlet-agent sync. Your data is safe on this laptop and will be sent after the update.",
			a.Agent, a.Min, a.Min, where)
	}
	return fmt.Sprintf("Hamlet trên máy này đã cũ so với máy chủ: hamlet-agent dùng phiên bản dữ liệu %d, máy chủ cần từ %d trở lên. Hãy cài hamlet-agent bản có phiên bản dữ liệu %d (%s), rồi chạy: hamlet-agent sync. Dữ liệu trên máy vẫn an toàn và sẽ được gửi sau khi cập nhật.",
		a.Agent, a.Min, a.Min, whereVI)
}
