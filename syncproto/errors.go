package syncproto

import (
	"errors"
	"fmt"
)

// Code is a protocol error code. Codes are stable strings on the wire
// (docs/PROTOCOL.md lists them); clients switch on them, people read Hint.
type Code string

const (
	CodeBadFrame        Code = "bad_frame"        // bytes that are not a valid message
	CodeTooLarge        Code = "too_large"        // a frame or a field over a hard limit
	CodeUnknownType     Code = "unknown_type"     // a message type this side does not know
	CodeUnexpected      Code = "unexpected"       // a valid message at the wrong time
	CodeVersionMismatch Code = "version_mismatch" // protocol or schema version not supported
	CodeUnauthorized    Code = "unauthorized"     // missing or unknown token
	CodeTokenRevoked    Code = "token_revoked"    // the device's token was revoked
	CodeCodeExpired     Code = "code_expired"     // enrollment code past its expiry
	CodeCodeUsed        Code = "code_used"        // enrollment code already exchanged
	CodeCodeInvalid     Code = "code_invalid"     // unknown or malformed enrollment code
	// CodeTooManyAttempts: this address sent too many wrong enrollment
	// codes; the code given was not checked (HTTP 429, Retry-After). A
	// server before it answered code_invalid with 429.
	CodeTooManyAttempts Code = "too_many_attempts"
	CodeOutOfScope      Code = "out_of_scope"  // a change to a hamlet the device does not cover
	CodeUnknownTable    Code = "unknown_table" // a change to a table the schema does not have
	CodeUnknownField    Code = "unknown_field" // a change to a field the table does not have
	CodeInvalidValue    Code = "invalid_value" // a value the schema rejects
	CodeClockSkew       Code = "clock_skew"    // a timestamp beyond the skew bound
	CodeSequenceGap     Code = "sequence_gap"  // an origin's changes arrived with a gap
	CodeBadCursor       Code = "bad_cursor"    // a pull cursor this server never issued
	CodeBusy            Code = "busy"          // overloaded: retry after a pause
	CodeUnavailable     Code = "unavailable"   // storage unavailable: retry
	CodeShuttingDown    Code = "shutting_down" // the server is stopping: reconnect later
	CodeInternal        Code = "internal"      // a bug on the sending side
	// CodeMovedOutOfScope: a change made after its row left the device's
	// scope (the household moved, or the hamlet left the team); the reason
	// names the move.
	CodeMovedOutOfScope Code = "moved_out_of_scope"
	// CodeRowCollected: a change to a row the server deleted and then
	// collected (every device covering it had acknowledged its tombstone,
	// §8.5), from a device that had not heard of the delete: not applied,
	// so that the edit does not make the row again from the edited fields
	// alone; the reason names the row.
	CodeRowCollected Code = "row_collected"
	// CodeScopeChanged: the team's hamlets changed; the session ends and
	// the client reconnects to learn its new scope (Welcome.Scope).
	CodeScopeChanged Code = "scope_changed"
	// CodeSessionReplaced: a newer session of the same device started;
	// this one ends (a device holds one session at a time). Sent as a
	// fatal ErrorMsg, then the socket closes with CloseReplaced.
	CodeSessionReplaced Code = "session_replaced"
)

// WebSocket close codes of the private range (RFC 6455 §7.4.2) the server
// closes a sync socket with, so a client can tell why without a message.
const (
	// CloseReplaced: a newer session of the same device replaced this one.
	CloseReplaced = 4000
	// CloseNoHello: no Hello arrived within the server's deadline.
	CloseNoHello = 4001
)

// Retryable reports whether the same request may succeed later unchanged.
// too_many_attempts is: the code was not checked, and the same request
// succeeds once its Retry-After has passed (a client waits that long
// first; hamlet-agent, enrolling on a person's command, tells the person
// the wait rather than retrying itself).
func (c Code) Retryable() bool {
	switch c {
	case CodeBusy, CodeUnavailable, CodeShuttingDown, CodeSequenceGap, CodeScopeChanged, CodeTooManyAttempts:
		return true
	}
	return false
}

// Error is the one error type of the sync protocol: it travels on the wire as
// an Error message and is what decoding and validation return.
type Error struct {
	Code Code
	// Msg says what went wrong, for logs and developers. No personal data.
	Msg string
	// Err is the underlying cause, not sent on the wire.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Msg, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches any *Error with the same code, so errors.Is(err, ErrTooLarge) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Msg == ""
}

// Sentinels for errors.Is.
var (
	ErrBadFrame        = &Error{Code: CodeBadFrame}
	ErrTooLarge        = &Error{Code: CodeTooLarge}
	ErrUnknownType     = &Error{Code: CodeUnknownType}
	ErrVersionMismatch = &Error{Code: CodeVersionMismatch}
	ErrClockSkew       = &Error{Code: CodeClockSkew}
)

// Errorf builds an *Error.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf extracts the protocol code from err, CodeInternal if it has none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Hint tells a volunteer (lang "vi", the default) or an operator ("en") what to
// do about an error with this code.
func Hint(code Code, lang string) string {
	h, ok := hints[code]
	if !ok {
		h = hints[CodeInternal]
	}
	if lang == "en" {
		return h[1]
	}
	return h[0]
}

var hints = map[Code][2]string{
	CodeBadFrame:        {"Dữ liệu gửi đi bị hỏng. Hãy cập nhật Hamlet lên bản mới nhất rồi đồng bộ lại.", "The message was malformed. Update Hamlet to the latest version and sync again."},
	CodeTooLarge:        {"Gói dữ liệu quá lớn. Hãy cập nhật Hamlet rồi đồng bộ lại.", "A message exceeded a size limit. Update Hamlet and sync again."},
	CodeUnknownType:     {"Máy chủ không hiểu yêu cầu. Hãy cập nhật Hamlet lên bản mới nhất.", "The peer does not know this message type. Update Hamlet."},
	CodeUnexpected:      {"Yêu cầu gửi sai thứ tự. Hãy đồng bộ lại.", "A message arrived out of order. Sync again."},
	CodeVersionMismatch: {"Phiên bản Hamlet trên máy này không còn được hỗ trợ. Hãy cài bản mới nhất (hỏi tổ trưởng hoặc cán bộ CNTT).", "This Hamlet version is not supported. Install the latest version (ask your team leader or IT staff)."},
	CodeUnauthorized:    {"Máy này chưa được đăng ký. Hãy xin mã đăng ký từ cán bộ CNTT và chạy: hamlet-agent enroll.", "This device is not enrolled. Get an enrollment code from IT staff and run: hamlet-agent enroll."},
	CodeTokenRevoked:    {"Quyền đồng bộ của máy này đã bị thu hồi. Dữ liệu vẫn còn trên máy; hãy xin mã đăng ký mới và chạy: hamlet-agent enroll.", "This device's access was revoked. Your data is still on this laptop; get a new enrollment code and run: hamlet-agent enroll."},
	CodeCodeExpired:     {"Mã đăng ký đã hết hạn. Hãy xin cán bộ CNTT cấp mã mới.", "The enrollment code has expired. Ask IT staff for a new one."},
	CodeCodeUsed:        {"Mã đăng ký đã được dùng. Hãy xin cán bộ CNTT cấp mã mới.", "The enrollment code was already used. Ask IT staff for a new one."},
	CodeCodeInvalid:     {"Mã đăng ký không đúng. Hãy kiểm tra lại từng ký tự.", "The enrollment code is wrong. Check each character."},
	CodeTooManyAttempts: {"Máy chủ tạm ngừng nhận đăng ký từ mạng này vì đã có quá nhiều lần nhập sai mã (có thể từ máy khác dùng chung mạng). Chưa chắc mã của bạn sai: máy chủ chưa kiểm tra mã này. Hãy đợi ít phút rồi thử lại với đúng mã này; mã chưa bị dùng.",
		"The server has paused enrollments from this network after too many wrong codes (perhaps from other laptops on the same network). Your code is not necessarily wrong: the server did not check it. Wait a few minutes, then try again with the same code; it is not used up."},
	CodeOutOfScope:   {"Hộ này không thuộc ấp/khóm tổ bạn phụ trách. Hãy kiểm tra lại ấp/khóm hoặc báo tổ trưởng.", "This household is outside the hamlets your team covers. Check the hamlet or tell your team leader."},
	CodeUnknownTable: {"Máy chủ không nhận loại dữ liệu này. Hãy cập nhật Hamlet.", "The server does not know this kind of record. Update Hamlet."},
	CodeUnknownField: {"Máy chủ không nhận trường dữ liệu này. Hãy cập nhật Hamlet.", "The server does not know this field. Update Hamlet."},
	CodeInvalidValue: {"Giá trị không hợp lệ. Hãy sửa lại rồi đồng bộ.", "A value is invalid. Fix it and sync again."},
	CodeClockSkew:    {"Đồng hồ máy tính bị sai. Hãy chỉnh ngày giờ cho đúng.", "This computer's clock is wrong. Set the correct date and time."},
	CodeSequenceGap:  {"Thiếu một phần dữ liệu. Hamlet sẽ tự gửi lại.", "Some changes are missing in between. Hamlet will resend them."},
	CodeBadCursor:    {"Vị trí đồng bộ không hợp lệ. Hamlet sẽ tải lại từ đầu.", "The sync position is invalid. Hamlet will fetch again from the start."},
	CodeBusy:         {"Máy chủ đang bận. Hamlet sẽ tự thử lại sau ít phút.", "The server is busy. Hamlet will retry in a few minutes."},
	CodeUnavailable:  {"Máy chủ tạm thời không lưu được dữ liệu. Hamlet sẽ tự thử lại.", "The server cannot store data right now. Hamlet will retry."},
	CodeShuttingDown: {"Máy chủ đang khởi động lại. Hamlet sẽ tự kết nối lại.", "The server is restarting. Hamlet will reconnect."},
	CodeInternal:     {"Có lỗi trong Hamlet. Hãy báo cán bộ CNTT.", "Hamlet hit an internal error. Tell IT staff."},
	CodeMovedOutOfScope: {"Thay đổi này được ghi sau khi hộ đã chuyển sang ấp/khóm mà tổ bạn không phụ trách (hoặc ấp/khóm đã chuyển khỏi tổ), nên máy chủ không nhận. Lý do ghi rõ hộ chuyển từ đâu đến đâu và khi nào; hãy báo tổ trưởng để chuyển thông tin cho tổ đang phụ trách.",
		"This change was made after the household moved to a hamlet your team does not cover (or the hamlet left your team), so the server refused it. The reason says where it moved from and to, and when; tell your team leader so the team now covering it can take the information."},
	CodeRowCollected: {"Bản ghi này đã bị xoá trên máy chủ và đã được dọn đi trước khi thay đổi của máy này đến, nên thay đổi không được áp dụng. Nếu bản ghi vẫn cần, hãy tạo lại.",
		"This record was deleted on the server and removed before this device's change arrived, so the change was not applied. If the record is still needed, create it again."},
	CodeSessionReplaced: {"Máy này vừa mở một phiên đồng bộ mới nên phiên này dừng lại (có thể lệnh đồng bộ đang chạy ở cửa sổ khác, hoặc thư mục dữ liệu đã được chép sang máy khác). Dữ liệu trên máy vẫn an toàn; nếu chỉ có một lệnh đồng bộ, hãy chạy lại hamlet-agent sync.",
		"A newer sync session of this laptop started, so this one stopped (another sync may be running in another window, or the data folder was copied to another laptop). Your data on this laptop is safe; if only one sync runs, run hamlet-agent sync again."},
	CodeScopeChanged: {"Danh sách ấp/khóm của tổ vừa thay đổi. Hamlet sẽ tự kết nối lại và chỉ tải dữ liệu của ấp/khóm mới.", "Your team's hamlets changed. Hamlet reconnects by itself and fetches only the new hamlets' data."},
}
