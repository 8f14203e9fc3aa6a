package agent

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Messager is an error that can tell a volunteer, in their language, what
// went wrong and what to do. lang is "vi" (default) or "en".
type Messager interface {
	error
	Message(lang string) string
}

// AppMessager is an error whose message in the volunteer's app differs
// from the CLI's: the app offers as a button what the CLI gives as a
// command.
type AppMessager interface {
	error
	AppMessage(lang string) string
}

// AppMessageOf is MessageOf for the volunteer's app.
func AppMessageOf(err error, lang string) string {
	var m AppMessager
	if errors.As(err, &m) {
		return m.AppMessage(lang)
	}
	return MessageOf(err, lang)
}

func isEN(lang string) bool { return strings.HasPrefix(strings.ToLower(lang), "en") }

func pick(lang, vi, en string) string {
	if isEN(lang) {
		return en
	}
	return vi
}

// Sentinels for errors.Is.
var (
	ErrCorrupt     = errors.New("agent: replica file is corrupt")
	ErrForeign     = errors.New("agent: file is not a Hamlet replica")
	ErrNewer       = errors.New("agent: replica was written by a newer Hamlet")
	ErrNotFound    = errors.New("agent: no such record")
	ErrNotEnrolled = errors.New("agent: device not enrolled")
)

// FileError says the replica file cannot be used. The file is never modified
// when Open returns one.
type FileError struct {
	Path string
	Kind error // ErrCorrupt, ErrForeign or ErrNewer
	Err  error
	// Refused: a write was refused because the replica is marked damaged
	// (damage.go), so the command saved nothing.
	Refused bool
}

func (e *FileError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%v: %s: %v", e.Kind, e.Path, e.Err)
	}
	return fmt.Sprintf("%v: %s", e.Kind, e.Path)
}

func (e *FileError) Unwrap() []error { return []error{e.Kind, e.Err} }

func (e *FileError) Message(lang string) string {
	switch e.Kind {
	case ErrForeign:
		return pick(lang,
			fmt.Sprintf("Tệp %s không phải dữ liệu Hamlet. Hamlet không sửa tệp này. Hãy kiểm tra lại --data-dir (hoặc HAMLET_AGENT_DIR).", e.Path),
			fmt.Sprintf("%s is not a Hamlet replica. Hamlet left it untouched. Check --data-dir (or HAMLET_AGENT_DIR).", e.Path))
	case ErrNewer:
		return pick(lang,
			fmt.Sprintf("Dữ liệu trong %s do bản Hamlet mới hơn tạo ra. Hãy cài bản Hamlet mới nhất; dữ liệu vẫn nguyên vẹn.", e.Path),
			fmt.Sprintf("%s was written by a newer Hamlet. Install the latest Hamlet; your data is intact.", e.Path))
	default:
		if errors.Is(e.Err, errStaleWAL) {
			return pick(lang,
				fmt.Sprintf("Tệp %[1]s-wal (phần dữ liệu chưa ghi vào %[1]s) là của một lúc khác với tệp %[1]s: thường do khôi phục thư mục dữ liệu từ bản lưu chép lúc Hamlet đang mở, hoặc chép từng tệp một. Dùng hai tệp lệch nhau thì mất những bản ghi đã lưu, nên Hamlet chưa dùng chúng và đã ngừng ghi. Hãy chạy: hamlet-agent repair. Lệnh này giữ lại bản sao của các tệp, cứu mọi bản ghi còn đọc được và mọi thay đổi chưa gửi, rồi tải từ máy chủ mọi bản ghi đã gửi.", e.Path),
				fmt.Sprintf("The file %[1]s-wal (data not yet written into %[1]s) is from another moment than %[1]s: usually the data folder was restored from a backup copied while Hamlet was open, or its files were copied one by one. Using the two together loses saved records, so Hamlet did not use them and stopped writing. Run: hamlet-agent repair. It keeps a copy of the files, saves every record it can still read and every change not yet sent, and fetches every record already sent from the server.", e.Path))
		}
		msg := pick(lang,
			fmt.Sprintf("Tệp dữ liệu %s bị hỏng (lỗi ổ đĩa, hoặc tệp bị ghi đè). Hamlet đã ngừng ghi vào tệp này để không mất thêm dữ liệu. Hãy chạy: hamlet-agent repair. Lệnh này giữ lại một bản sao của tệp hỏng, cứu mọi bản ghi còn đọc được và mọi thay đổi chưa gửi, rồi tải phần còn lại từ máy chủ.", e.Path),
			fmt.Sprintf("The data file %s is damaged (a disk fault, or the file was overwritten). Hamlet stopped writing to it so that nothing more is lost. Run: hamlet-agent repair. It keeps a copy of the damaged file, saves every record it can still read and every change not yet sent, and fetches the rest from the server.", e.Path))
		if e.Refused {
			msg += pick(lang, " Lệnh vừa rồi chưa lưu gì: sau khi sửa, hãy nhập lại.", " This command saved nothing: after the repair, enter it again.")
		}
		return msg
	}
}

// DiskFullError: the disk holding the replica is full, so a write failed
// and was rolled back: what it was writing is not saved, what was saved
// before is intact.
type DiskFullError struct {
	Path string
	// Op is what failed: "" a record being saved, "sync", or "command"
	// (anything else). The CLI sets it from the command.
	Op  string
	Err error
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("agent: disk full writing %s: %v", e.Path, e.Err)
}
func (e *DiskFullError) Unwrap() error { return e.Err }

func (e *DiskFullError) Message(lang string) string {
	switch e.Op {
	case "sync":
		return pick(lang,
			fmt.Sprintf("Ổ đĩa của máy đã đầy nên Hamlet không ghi được vào %s và chưa đồng bộ xong. Hãy giải phóng dung lượng (xóa tệp không cần, dọn Thùng rác) rồi chạy lại: hamlet-agent sync. Các bản ghi đã lưu trên máy vẫn còn nguyên và sẽ được gửi khi đồng bộ xong.", e.Path),
			fmt.Sprintf("The disk is full, so Hamlet could not write to %s and the sync did not finish. Free some space (delete files you do not need, empty the Recycle Bin), then run again: hamlet-agent sync. The records saved on this laptop are intact and will be sent once the sync finishes.", e.Path))
	case "command":
		return pick(lang,
			fmt.Sprintf("Ổ đĩa của máy đã đầy nên Hamlet không ghi được vào %s; lệnh vừa rồi chưa làm xong và không lưu gì. Hãy giải phóng dung lượng (xóa tệp không cần, dọn Thùng rác) rồi chạy lại lệnh. Các bản ghi đã lưu trước đó vẫn còn nguyên.", e.Path),
			fmt.Sprintf("The disk is full, so Hamlet could not write to %s; the command did not finish and saved nothing. Free some space (delete files you do not need, empty the Recycle Bin), then run the command again. Records saved before are intact.", e.Path))
	}
	return pick(lang,
		fmt.Sprintf("Ổ đĩa của máy đã đầy nên Hamlet không ghi được vào %s: bản ghi vừa nhập CHƯA được lưu. Hãy giải phóng dung lượng (xóa tệp không cần, dọn Thùng rác) rồi nhập lại. Các bản ghi đã lưu trước đó vẫn còn nguyên.", e.Path),
		fmt.Sprintf("The disk is full, so Hamlet could not write to %s: this record was NOT saved. Free some space (delete files you do not need, empty the Recycle Bin), then enter it again. Records saved before are intact.", e.Path))
}

// BusyError: another Hamlet process held the replica longer than the
// busy timeout, so this command did nothing.
type BusyError struct{ Err error }

func (e *BusyError) Error() string { return fmt.Sprintf("agent: replica busy: %v", e.Err) }
func (e *BusyError) Unwrap() error { return e.Err }

func (e *BusyError) Message(lang string) string {
	return pick(lang,
		"Một lệnh Hamlet khác (có thể là đồng bộ) đang dùng dữ liệu trên máy quá lâu nên lệnh này chưa làm được; nếu lệnh này đang lưu một bản ghi thì bản ghi đó CHƯA được lưu. Hãy chờ lệnh kia xong rồi thử lại.",
		"Another Hamlet command (a sync, perhaps) held the data on this laptop too long, so this command did nothing; if it was saving a record, that record was NOT saved. Wait for the other command to finish, then try again.")
}

// NotFoundError names a record id that the replica does not hold.
type NotFoundError struct {
	Table string
	ID    string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("agent: no %s with id %q", e.Table, e.ID) }
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

func (e *NotFoundError) Message(lang string) string {
	what := map[string][2]string{
		"households":       {"hộ gia đình", "household"},
		"visits":           {"lượt thăm", "visit"},
		"tutoring_records": {"lượt hướng dẫn", "tutoring record"},
		"field_reports":    {"phản ánh", "field report"},
		"conflicts":        {"xung đột", "conflict"},
		"rejected":         {"thay đổi bị từ chối", "refused change"},
	}[e.Table]
	if what[0] == "" {
		what = [2]string{"bản ghi", "record"}
	}
	return pick(lang,
		fmt.Sprintf("Không tìm thấy %s có mã %q trên máy này. Hãy xem danh sách (lệnh list) và chép đúng mã; nếu vừa được thêm ở máy khác, hãy đồng bộ trước.", what[0], e.ID),
		fmt.Sprintf("No %s with id %q on this laptop. List them (the list command) and copy the id exactly; if it was added on another laptop, sync first.", what[1], e.ID))
}

// RestoreIncompleteError: a deleted row cannot come back, since it lacks
// Field, which every such record needs (its value was never taken, or its
// refusal was discarded).
type RestoreIncompleteError struct{ Table, ID, Field string }

func (e *RestoreIncompleteError) Error() string {
	return fmt.Sprintf("agent: restore %s %s: no %s", e.Table, e.ID, e.Field)
}

func (e *RestoreIncompleteError) Message(lang string) string {
	return pick(lang,
		fmt.Sprintf("Không khôi phục được bản ghi %s: bản ghi không còn %s (giá trị đã bị bỏ hoặc máy chủ chưa nhận). Bản ghi vẫn ở trạng thái đã xóa; nếu cần, hãy thêm lại một bản ghi mới với đủ thông tin.",
			shortID(e.ID), schema.FieldLabel(e.Field, "vi")),
		fmt.Sprintf("Record %s cannot be restored: it no longer has its %s (the value was discarded, or the server never took it). It stays deleted; if needed, add it again as a new record with every detail.",
			shortID(e.ID), schema.FieldLabel(e.Field, "en")))
}

// DeletedError: an edit of a record deleted on this laptop (here or by a
// teammate, synced). It must be restored first.
type DeletedError struct {
	Table string
	ID    string
}

func (e *DeletedError) Error() string { return fmt.Sprintf("agent: %s %s is deleted", e.Table, e.ID) }

func (e *DeletedError) Message(lang string) string {
	if e.Table == "households" {
		return pick(lang,
			fmt.Sprintf("Hộ %s đã bị xóa nên không sửa được. Nếu hộ vẫn còn, hãy khôi phục trước: hamlet-agent household restore %s, rồi sửa lại.", shortID(e.ID), shortID(e.ID)),
			fmt.Sprintf("Household %s is deleted, so it cannot be edited. If it still exists, restore it first: hamlet-agent household restore %s, then edit it.", shortID(e.ID), shortID(e.ID)))
	}
	return pick(lang,
		fmt.Sprintf("Bản ghi %s đã bị xóa nên không sửa được. Hãy xem lại danh sách hoặc hỏi tổ trưởng.", shortID(e.ID)),
		fmt.Sprintf("Record %s is deleted, so it cannot be edited. Check the list or ask your team leader.", shortID(e.ID)))
}

// RecordGoneError: a refused change sent again names a record this laptop
// no longer holds (moved out of its team's hamlets, or collected), and
// the change alone cannot make it: sent, it would make a record of that
// one field here and be refused again there. Discarding it is what is
// left.
type RecordGoneError struct {
	Table string
	ID    string
}

func (e *RecordGoneError) Error() string {
	return fmt.Sprintf("agent: %s %s is no longer on this laptop; a refused change of it alone cannot be sent again", e.Table, e.ID)
}

func (e *RecordGoneError) Message(lang string) string {
	return pick(lang,
		fmt.Sprintf("Bản ghi %s không còn trên máy này (đã chuyển sang ấp ngoài địa bàn của tổ, hoặc đã bị xoá trên máy chủ) nên không gửi lại được thay đổi này. Hãy bấm «Bỏ» để bỏ thay đổi; nếu thông tin vẫn cần, báo tổ đang phụ trách hộ.", shortID(e.ID)),
		fmt.Sprintf("Record %s is no longer on this laptop (moved to a hamlet outside your team's, or deleted on the server), so this change cannot be sent again. Press «Discard» to drop it; if the information is still needed, tell the team that now covers the household.", shortID(e.ID)))
}

// NotEnrolledError: sync or a volunteer write needs an enrollment first.
// LeftOut, when set, is the replica (short id) whose enrollment a repair
// left out (Replica.NotEnrolled): its old device is to be revoked first.
type NotEnrolledError struct{ LeftOut string }

func (*NotEnrolledError) Error() string { return ErrNotEnrolled.Error() }
func (*NotEnrolledError) Unwrap() error { return ErrNotEnrolled }
func (e *NotEnrolledError) Message(lang string) string {
	if e.LeftOut != "" {
		return pick(lang,
			"Máy này chưa được đăng ký: lần sửa tệp dữ liệu trước đã bỏ thông tin đăng ký không còn đọc được.",
			"This laptop is not enrolled: the last repair of its data file left out its enrollment, which could no longer be read.") + " " + EnrollAgainSteps(lang, e.LeftOut)
	}
	return pick(lang,
		"Máy này chưa được đăng ký. Hãy xin mã đăng ký từ cán bộ CNTT rồi chạy: hamlet-agent enroll --server <địa chỉ> --code <mã>. Nếu lần đăng ký trước bị ngắt giữa chừng, hãy chạy lại đúng lệnh đó với cùng mã (mã còn hạn vẫn dùng được).",
		"This laptop is not enrolled. Get an enrollment code from IT staff and run: hamlet-agent enroll --server <URL> --code <CODE>. If an earlier enroll was cut off, run the same command again with the same code (it still works while it is valid).")
}

// AppMessage: the app enrolls with its own button (AppMessager).
func (e *NotEnrolledError) AppMessage(lang string) string {
	if e.LeftOut != "" {
		return fmt.Sprintf(pick(lang,
			"Máy này chưa được đăng ký: lần sửa tệp dữ liệu trước đã bỏ thông tin đăng ký không còn đọc được. Hãy nhờ cán bộ CNTT làm hai việc: thu hồi thiết bị cũ của máy này (thiết bị có bản dữ liệu %s trong hamlet-server device list: hamlet-server device revoke --device MÃ_THIẾT_BỊ), và cấp một mã đăng ký mới; rồi bấm «Đăng ký lại bằng mã mới» bên dưới và nhập mã. Máy chủ chỉ nhận mã mới sau khi thiết bị cũ đã bị thu hồi. Dữ liệu trên máy vẫn được giữ nguyên.",
			"This laptop is not enrolled: the last repair of its data file left out its enrollment, which could no longer be read. Ask IT staff for two things: to revoke this laptop's old device (the one with replica %s in hamlet-server device list: hamlet-server device revoke --device DEVICE_ID), and a new enrollment code; then press «Enroll again with a new code» below and enter it. The server takes the new code only once the old device is revoked. The data on this laptop is kept."), e.LeftOut)
	}
	return pick(lang,
		"Máy này chưa được đăng ký, hoặc mã truy cập của máy đã mất. Hãy xin mã đăng ký từ cán bộ CNTT, rồi bấm «Đăng ký lại bằng mã mới» bên dưới và nhập mã. Dữ liệu trên máy vẫn được giữ nguyên.",
		"This laptop is not enrolled, or its access token is gone. Get an enrollment code from IT staff, then press «Enroll again with a new code» below and enter it. The data on this laptop is kept.")
}

// ScopeError: a write to a hamlet the team does not cover.
type ScopeError struct {
	Hamlet string
	// Name is this laptop's name for Hamlet (one the team covered
	// before), "" when it knows none.
	Name string
	// Scope is the team's hamlets, as of the last sync; the message names
	// them as the volunteer knows them, "Khóm 1 (32002-01)", not by code
	// alone.
	Scope []Hamlet
}

func (e *ScopeError) Error() string {
	codes := make([]string, len(e.Scope))
	for i, h := range e.Scope {
		codes[i] = h.Code
	}
	return fmt.Sprintf("agent: hamlet %s is not in this device's scope %v", e.Hamlet, codes)
}

func (e *ScopeError) Message(lang string) string {
	labels := make([]string, len(e.Scope))
	for i, h := range e.Scope {
		labels[i] = hamletLabel(h.Code, h.Name)
	}
	asked, scope := hamletLabel(e.Hamlet, e.Name), strings.Join(labels, ", ")
	return pick(lang,
		fmt.Sprintf("Ấp/khóm %s không thuộc địa bàn tổ bạn phụ trách (%s, theo lần đồng bộ gần nhất). Hãy chọn đúng ấp/khóm; nếu tổ vừa được giao lại ấp/khóm này, hãy đồng bộ rồi làm lại; nếu không, báo tổ trưởng.", asked, scope),
		fmt.Sprintf("Hamlet %s is not one your team covers (%s, as of the last sync). Pick the right hamlet; if your team has just been given it, sync and try again; otherwise tell your team leader.", asked, scope))
}

// AmbiguousHamletError: a sheet names a hamlet by a name that fits
// several of the team's hamlets (after the 2025 merger a ward can hold
// two "Khóm 1"), so the row is not filed in either.
type AmbiguousHamletError struct {
	Hamlet string   // as the sheet wrote it
	Fits   []Hamlet // the scope's hamlets it fits, in scope order
}

func (e *AmbiguousHamletError) Error() string {
	codes := make([]string, len(e.Fits))
	for i, h := range e.Fits {
		codes[i] = h.Code
	}
	return fmt.Sprintf("agent: hamlet name %q fits %d hamlets of this device's scope: %s", e.Hamlet, len(e.Fits), strings.Join(codes, ", "))
}

func (e *AmbiguousHamletError) Message(lang string) string {
	fits := make([]string, len(e.Fits))
	for i, h := range e.Fits {
		fits[i] = h.Code
		if h.Name != "" {
			fits[i] = h.Name + " – " + h.Code
		}
	}
	list := strings.Join(fits, "; ")
	count := fmt.Sprintf("%d", len(e.Fits))
	if len(e.Fits) == 2 {
		count = "both"
	}
	return pick(lang,
		fmt.Sprintf("Tên ấp/khóm %q trùng với %d ấp/khóm của tổ: %s. Hãy ghi mã ấp/khóm (hoặc tên đầy đủ như trên máy) của đúng ấp/khóm nơi hộ ở.", e.Hamlet, len(e.Fits), list),
		fmt.Sprintf("The hamlet name %q fits %s of your team's hamlets: %s. Write the code (or the full name as this laptop lists it) of the hamlet the household is in.", e.Hamlet, count, list))
}

// ServerError is an error the server answered with (enroll, or a refused
// WebSocket upgrade, or an ErrorMsg during a session).
type ServerError struct {
	Status int // HTTP status, 0 for an ErrorMsg
	Code   syncproto.Code
	Msg    string
	Hint   string
	HintEN string
	// DeviceID: the device an enrollment refusal names
	// (syncproto.ErrorDetail.DeviceID); "" from a server before it.
	DeviceID string
	Fatal    bool
	Retries  bool
}

func (e *ServerError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("agent: server answered %d %s: %s", e.Status, e.Code, e.Msg)
	}
	return fmt.Sprintf("agent: server error %s: %s", e.Code, e.Msg)
}

// Is matches syncproto sentinels by code, so errors.Is(err, &syncproto.Error{Code: ...}) works.
func (e *ServerError) Is(target error) bool {
	t, ok := target.(*syncproto.Error)
	return ok && t.Code == e.Code && t.Msg == ""
}

func (e *ServerError) Message(lang string) string {
	if e.Code == syncproto.CodeVersionMismatch {
		if a, ok := syncproto.ParseSchemaAdvice(e.Msg); ok {
			return a.Hint(pick(lang, "vi", "en"))
		}
	}
	if isEN(lang) {
		if e.HintEN != "" {
			return e.HintEN
		}
		return syncproto.Hint(e.Code, "en")
	}
	if e.Hint != "" {
		return e.Hint
	}
	return syncproto.Hint(e.Code, "vi")
}

// ConnectError: the server could not be reached, or what answered is not a
// Hamlet server.
type ConnectError struct {
	URL       string
	NotHamlet bool // something answered, but not the Hamlet API
	Err       error
	// Enrolling: the laptop was enrolling, so there is no data to send
	// yet and the code is still unused.
	Enrolling bool
	// Dropped: the connection was open, the server had answered and the
	// sync was under way, when the network dropped it (a weak signal, a
	// tower hand-over): the address is right, and what the sync did
	// before the drop is kept.
	Dropped bool
	// Sent, Cloned and Pulled are what the sync did before the drop, in
	// every attempt of it (set by Sync and Watch for a Dropped error):
	// changes the server acknowledged, rows a clone stored, changes a
	// pull stored.
	Sent, Cloned, Pulled int
	// HTTPS is the https:// address the server at an http:// address
	// pointed to when it answered that it speaks https only (errWantsHTTPS),
	// on the same host; HTTPSErr why a sync that tried it could not use it.
	HTTPS    string
	HTTPSErr error
}

// Error says also why https:// could not be used (HTTPSErr): IT staff's
// detail (status's last error), and a revocation told there is read as one
// (status looks for token_revoked in it).
func (e *ConnectError) Error() string {
	if e.HTTPSErr != nil {
		return fmt.Sprintf("agent: connect %s: %v; at %s: %v", e.URL, e.Err, e.HTTPS, e.HTTPSErr)
	}
	return fmt.Sprintf("agent: connect %s: %v", e.URL, e.Err)
}
func (e *ConnectError) Unwrap() error { return e.Err }

func (e *ConnectError) Message(lang string) string {
	if e.Dropped {
		return e.droppedMessage(lang, false)
	}
	if plain, cert := connectCause(e.Err); plain || cert {
		return e.tlsMessage(lang, plain)
	}
	if errors.Is(e.Err, errWantsHTTPS) {
		return e.httpsMessage(lang)
	}
	if errors.Is(e.Err, errSignIn) {
		return e.signInMessage(lang)
	}
	if errors.Is(e.Err, errServerDown) {
		return e.downMessage(lang, false)
	}
	if e.NotHamlet {
		return pick(lang,
			fmt.Sprintf("Địa chỉ %s không phải máy chủ Hamlet. Hãy kiểm tra lại địa chỉ (hỏi tổ trưởng hoặc cán bộ CNTT). Dữ liệu trên máy vẫn an toàn.", e.URL),
			fmt.Sprintf("%s is not a Hamlet server. Check the address (ask your team leader or IT staff). Your data on this laptop is safe.", e.URL))
	}
	if e.Enrolling {
		return pick(lang,
			fmt.Sprintf("Không kết nối được máy chủ %s nên máy này chưa được đăng ký. Hãy kiểm tra mạng (4G/Wi-Fi) và địa chỉ máy chủ (đúng như cán bộ CNTT đưa, kể cả cổng, ví dụ :8750) rồi thử lại; mã đăng ký chưa bị dùng.", e.URL),
			fmt.Sprintf("Cannot reach the server at %s, so this laptop is not enrolled. Check the network (mobile data/Wi-Fi) and the server address (exactly as IT staff gave it, port included, e.g. :8750), then try again; the code is not used up.", e.URL))
	}
	return pick(lang,
		fmt.Sprintf("Không kết nối được máy chủ %s. Hãy kiểm tra mạng (4G/Wi-Fi) và địa chỉ máy chủ rồi thử lại. Dữ liệu đã lưu trên máy và sẽ được gửi khi có mạng.", e.URL),
		fmt.Sprintf("Cannot reach the server at %s. Check the network (mobile data/Wi-Fi) and the server address, then try again. Your data is saved on this laptop and will be sent once online.", e.URL))
}

// AppMessage: the app syncs again by itself after a drop (AppMessager);
// a failed dial is told as on the command line.
func (e *ConnectError) AppMessage(lang string) string {
	if e.Dropped {
		return e.droppedMessage(lang, true)
	}
	if errors.Is(e.Err, errServerDown) && !e.Enrolling {
		return e.downMessage(lang, true)
	}
	return e.Message(lang)
}

// downMessage: the address answered, through a gateway, that the server
// behind it is not answering for now (errServerDown: restarting, an
// upgrade). The address is right: nothing to check, only to wait; the app
// and sync --watch try again by themselves (again).
func (e *ConnectError) downMessage(lang string, again bool) string {
	if e.Enrolling {
		return pick(lang,
			fmt.Sprintf("Máy chủ %s tạm thời chưa trả lời (có thể đang khởi động lại). Hãy thử lại sau vài phút; nếu vẫn vậy, hãy kiểm tra lại địa chỉ (hỏi tổ trưởng hoặc cán bộ CNTT). Máy này chưa được đăng ký; mã đăng ký chưa bị dùng.", e.URL),
			fmt.Sprintf("The server at %s is not answering for now (it may be restarting). Try again in a few minutes; if it goes on, check the address (ask your team leader or IT staff). This laptop is not enrolled; the code is not used up.", e.URL))
	}
	if again {
		return pick(lang,
			fmt.Sprintf("Máy chủ %s tạm thời chưa trả lời (có thể đang khởi động lại); Hamlet sẽ tự thử lại. Dữ liệu đã lưu trên máy và sẽ được gửi khi máy chủ trả lời.", e.URL),
			fmt.Sprintf("The server at %s is not answering for now (it may be restarting); Hamlet will try again by itself. Your data is saved on this laptop and will be sent once the server answers.", e.URL))
	}
	return pick(lang,
		fmt.Sprintf("Máy chủ %s tạm thời chưa trả lời (có thể đang khởi động lại). Hãy đồng bộ lại sau vài phút. Dữ liệu đã lưu trên máy và sẽ được gửi khi máy chủ trả lời.", e.URL),
		fmt.Sprintf("The server at %s is not answering for now (it may be restarting). Sync again in a few minutes. Your data is saved on this laptop and will be sent once the server answers.", e.URL))
}

// droppedMessage: the sync was under way when the connection dropped. It
// says so (not "check the address"), what reached the server or this
// laptop before, that it is kept, and to sync again, best where the
// signal is better; the app syncs again by itself (app).
func (e *ConnectError) droppedMessage(lang string, app bool) string {
	var vi, en []string
	if e.Sent > 0 {
		vi = append(vi, fmt.Sprintf("máy chủ đã nhận %s thay đổi từ máy này", i18n.Int(int64(e.Sent), "vi")))
		en = append(en, fmt.Sprintf("the server received %s changes from this laptop", i18n.Int(int64(e.Sent), "en")))
	}
	if e.Cloned > 0 {
		vi = append(vi, fmt.Sprintf("đã tải về máy %s bản ghi của tổ", i18n.Int(int64(e.Cloned), "vi")))
		en = append(en, fmt.Sprintf("%s of the team's records were downloaded to this laptop", i18n.Int(int64(e.Cloned), "en")))
	}
	if e.Pulled > 0 {
		vi = append(vi, fmt.Sprintf("đã nhận %s thay đổi mới", i18n.Int(int64(e.Pulled), "vi")))
		en = append(en, fmt.Sprintf("%s new changes were received", i18n.Int(int64(e.Pulled), "en")))
	}
	msgVI := "Kết nối tới máy chủ bị ngắt giữa chừng khi đồng bộ (sóng yếu?)."
	msgEN := "The connection to the server dropped in the middle of the sync (weak signal?)."
	if len(vi) > 0 {
		msgVI += " Trước khi ngắt, " + strings.Join(vi, ", ") + "."
		msgEN += " Before it dropped, " + strings.Join(en, ", ") + "."
	}
	if app {
		msgVI += " Những gì đã tải về hay gửi đi được giữ lại, những gì chưa gửi vẫn lưu trên máy; Hamlet sẽ tự đồng bộ lại, nhanh hơn ở chỗ sóng tốt hơn."
		msgEN += " What was downloaded or sent is kept, and what is not sent yet stays saved on this laptop; Hamlet syncs again by itself, faster where the signal is better."
	} else {
		msgVI += " Những gì đã tải về hay gửi đi được giữ lại, những gì chưa gửi vẫn lưu trên máy; hãy đồng bộ lại, tốt nhất ở chỗ sóng tốt hơn."
		msgEN += " What was downloaded or sent is kept, and what is not sent yet stays saved on this laptop; sync again, best where the signal is better."
	}
	return pick(lang, msgVI, msgEN)
}

// httpsMessage: the server at an http:// address speaks https only: the
// address to use is the same with https://. A sync has tried it itself
// (https_move.go) and failed: what is left is IT staff's to do.
func (e *ConnectError) httpsMessage(lang string) string {
	httpsURL := e.HTTPS
	if httpsURL == "" {
		httpsURL = "https://" + strings.TrimPrefix(strings.TrimPrefix(e.URL, "http://"), "https://")
	}
	if e.Enrolling {
		return pick(lang,
			fmt.Sprintf("Máy chủ này dùng https:// chứ không phải http://. Hãy nhập địa chỉ đầy đủ %s (có cả https:// ở đầu) rồi thử lại. Máy này chưa được đăng ký; mã đăng ký chưa bị dùng.", httpsURL),
			fmt.Sprintf("This server uses https://, not http://. Type the address in full, %s (with https:// in front), then try again. This laptop is not enrolled; the code is not used up.", httpsURL))
	}
	tail := pick(lang, " Dữ liệu đã lưu trên máy và sẽ được gửi khi kết nối được.", " Your data is saved on this laptop and will be sent once connected.")
	if _, cert := connectCause(e.HTTPSErr); cert {
		return pick(lang,
			fmt.Sprintf("Máy chủ %s nay chỉ dùng https://. Máy này đã thử %s nhưng không tin cậy chứng chỉ của máy chủ ở đó. Hãy báo cán bộ CNTT: máy chủ cần có chứng chỉ hợp lệ mà máy này tin cậy (hoặc cài chứng chỉ đó lên máy này).", e.URL, httpsURL),
			fmt.Sprintf("The server at %s now uses https:// only. This laptop tried %s but does not trust the server's certificate there. Tell IT staff: the server needs a valid certificate this laptop trusts (or that certificate installed on this laptop).", e.URL, httpsURL)) + tail
	}
	if errors.Is(e.HTTPSErr, errNotThisServer) {
		return pick(lang,
			fmt.Sprintf("Địa chỉ %s chuyển máy này sang %s, nhưng ở đó không phải máy chủ Hamlet mà máy này đã đăng ký, nên máy này không chuyển sang đó (địa chỉ máy chủ trên máy giữ nguyên). Nếu đang dùng Wi-Fi lạ (quán cà phê, khách sạn, nơi công cộng), hãy đồng bộ lại bằng mạng khác (4G hoặc Wi-Fi quen); nếu vẫn vậy, hãy báo cán bộ CNTT.", e.URL, httpsURL),
			fmt.Sprintf("The address %s sent this laptop to %s, but what answers there is not the Hamlet server this laptop enrolled with, so the laptop did not move there (the server address on this laptop is unchanged). If you are on an unfamiliar Wi-Fi (a café, a hotel, a public place), sync again on another network (mobile data or a Wi-Fi you know); if it happens again, tell IT staff.", e.URL, httpsURL)) + tail
	}
	if se := httpsRefusal(e); se != nil {
		// The Hamlet server at the https:// address took the WebSocket and
		// refused the move's Hello (welcomedAt: an update of hamlet-agent
		// needed, storage busy for now): what it said is what to do, as a
		// session there would have said it before the Hello was checked,
		// not enrolling again. (A refusal before the WebSocket, Status
		// set, stays the message below: no Hamlet session there yet.)
		return pick(lang,
			fmt.Sprintf("Máy chủ %s nay chỉ dùng https:// (%s), nhưng máy chủ ở đó chưa đồng bộ với máy này (máy này chưa chuyển sang địa chỉ đó). ", e.URL, httpsURL),
			fmt.Sprintf("The server at %s now uses https:// only (%s), but the server there did not sync with this laptop (the laptop did not move to that address). ", e.URL, httpsURL)) + se.Message(lang)
	}
	if e.HTTPSErr != nil {
		return pick(lang,
			fmt.Sprintf("Máy chủ %s nay chỉ dùng https://. Máy này đã thử %s nhưng không đồng bộ được ở đó. Hãy báo cán bộ CNTT: cần kiểm tra máy chủ ở địa chỉ https đó, hoặc đăng ký lại máy này với địa chỉ đúng của máy chủ (dữ liệu trên máy giữ nguyên).", e.URL, httpsURL),
			fmt.Sprintf("The server at %s now uses https:// only. This laptop tried %s but could not sync there. Tell IT staff: the server at that https address needs checking, or this laptop enrolled again with the server's right address (its data is kept).", e.URL, httpsURL)) + tail
	}
	return pick(lang,
		fmt.Sprintf("Máy chủ %s nay chỉ dùng https://, địa chỉ mới là %s. Hãy báo cán bộ CNTT để đăng ký lại máy này với địa chỉ đó (dữ liệu trên máy giữ nguyên).", e.URL, httpsURL),
		fmt.Sprintf("The server at %s now uses https:// only; its new address is %s. Tell IT staff, to enroll this laptop again with that address (its data is kept).", e.URL, httpsURL)) + tail
}

// tlsMessage: the server answered, but https failed: it speaks plain HTTP
// (plain), or its certificate is not one this laptop trusts. Nothing is
// offered to skip the check: the server's address or certificate is IT
// staff's to fix.
func (e *ConnectError) tlsMessage(lang string, plain bool) string {
	tail := pick(lang, " Dữ liệu đã lưu trên máy và sẽ được gửi khi kết nối được.", " Your data is saved on this laptop and will be sent once connected.")
	if e.Enrolling {
		tail = pick(lang, " Máy này chưa được đăng ký; mã đăng ký chưa bị dùng.", " This laptop is not enrolled; the code is not used up.")
	}
	if plain {
		httpURL := "http://" + strings.TrimPrefix(strings.TrimPrefix(e.URL, "https://"), "http://")
		if !e.Enrolling {
			return pick(lang,
				fmt.Sprintf("Máy chủ %s trả lời bằng http:// (không mã hoá) chứ không phải https://. Hãy báo cán bộ CNTT.", e.URL),
				fmt.Sprintf("The server at %s answers in plain http://, not https://. Tell IT staff.", e.URL)) + tail
		}
		return pick(lang,
			fmt.Sprintf("Máy chủ này dùng http:// chứ không phải https://. Hãy nhập địa chỉ đầy đủ %s (có cả http:// ở đầu, đúng như cán bộ CNTT đưa) rồi thử lại.", httpURL),
			fmt.Sprintf("This server uses http://, not https://. Type the address in full, %s (with http:// in front, exactly as IT staff gave it), then try again.", httpURL)) + tail
	}
	host := e.URL
	if u, err := url.Parse(e.URL); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	return pick(lang,
		fmt.Sprintf("Máy này không tin chứng chỉ bảo mật (HTTPS) của máy chủ %s (chứng chỉ tự ký, do nơi không được tin cậy cấp, sai tên hoặc đã hết hạn), nên không kết nối để giữ an toàn dữ liệu. Đây là việc của cán bộ CNTT: máy chủ cần một chứng chỉ do tổ chức cấp chứng chỉ được tin cậy cấp, đúng tên %s. Hãy báo cán bộ CNTT; đừng tìm cách bỏ qua bước kiểm tra này. Nếu ngày giờ trên máy này sai, hãy chỉnh lại cho đúng rồi thử lại.", host, host),
		fmt.Sprintf("This laptop does not trust the security (HTTPS) certificate of the server %s (self-signed, from an authority it does not trust, for another name, or expired), so it does not connect, to keep the data safe. This is for IT staff to fix: the server needs a certificate from a trusted certificate authority, for the name %s. Tell IT staff; do not try to skip this check. If this laptop's date and time are wrong, set them right and try again.", host, host)) + tail
}

// InputError is a bad value given by the volunteer that the schema does not
// cover (an unknown skill name typed on the command line, say). VI and EN
// are what she reads: they may quote what she typed, which helps her find
// it. Detail is English for logs: Error() carries it, so whatever keeps
// the error keeps it (a log, hamlet-agent --json's "detail"). It names the
// field (or what was asked for) and says what is wrong with the value's
// form (schema.Shape), never any of the value: a value typed into the
// wrong place may be a name, a phone or an ID number, as
// schema.ValidationError's Detail.
type InputError struct {
	VI, EN string
	Detail string
}

func (e *InputError) Error() string {
	if e.Detail == "" {
		return "agent: input refused" // never EN: it may quote the input
	}
	return "agent: " + e.Detail
}
func (e *InputError) Message(lang string) string { return pick(lang, e.VI, e.EN) }

// MessageOf returns the volunteer-facing text for any error.
func MessageOf(err error, lang string) string {
	var m Messager
	if errors.As(err, &m) {
		return m.Message(lang)
	}
	var ve *schema.ValidationError
	if errors.As(err, &ve) {
		return ve.Message(lang)
	}
	var pe *syncproto.Error
	if errors.As(err, &pe) {
		return refusedFromServer(pe.Code, lang)
	}
	// The CLI prints "Lỗi:"/"Error:" before this: no prefix of its own. It
	// cannot tell whether the failed command was saving a record, so it
	// does not claim that one was saved. The cause is English (Go's, the
	// driver's): it is the detail for IT staff, set apart from the
	// Vietnamese sentence.
	return pick(lang, "Lệnh chưa làm xong. Những bản ghi đã lưu trước đó vẫn còn nguyên; nếu lệnh này đang lưu một bản ghi thì bản ghi đó chưa được lưu: hãy thử lại, và báo cán bộ CNTT nếu lỗi lặp lại (chi tiết cho cán bộ CNTT: "+err.Error()+").",
		"The command did not finish. Records saved before are intact; if this command was saving a record, that record was not saved: try again, and tell IT staff if this repeats (detail for IT staff: "+err.Error()+").")
}

// OtherServerError: the replica holds data of one Hamlet server (one
// deployment) and a code of another was used. Its sequence numbers, cursor
// and rows belong to the first: synced with the second it would be stuck
// on a sequence gap. Nothing local is changed. A server since issue 14
// refuses it before using the code up (other_server); an older one used
// the code and this agent refused its answer (Used).
type OtherServerError struct {
	Held, New string // server ids
	Used      bool   // the server used the code up
}

func (e *OtherServerError) Error() string {
	return fmt.Sprintf("agent: this replica holds data of server %s; the code is from server %s", shortID(e.Held), shortID(e.New))
}

func (e *OtherServerError) Message(lang string) string {
	if !e.Used {
		return syncproto.Hint(syncproto.CodeOtherServer, pick(lang, "vi", "en"))
	}
	return pick(lang,
		"Dữ liệu trên máy này thuộc một máy chủ Hamlet khác với máy chủ của mã vừa nhập. Dữ liệu vẫn giữ nguyên. Để dùng máy chủ mới, hãy chạy hamlet-agent với một thư mục dữ liệu mới (--data-dir) và xin mã mới (mã vừa nhập đã được dùng).",
		"This laptop's data belongs to a different Hamlet server than the code's. Nothing was changed. To use the new server, run hamlet-agent with a new data directory (--data-dir) and ask for a new code (this one is used).")
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// refusedFromServer is what the volunteer reads when this agent refused a
// message of the server's (a protocol error raised here, not a
// ServerError): syncproto's hints say what the server found wrong in what
// this laptop sent ("the data sent was broken: update Hamlet"), which
// points at the wrong side.
func refusedFromServer(code syncproto.Code, lang string) string {
	what, whatEN := "", ""
	switch code {
	case syncproto.CodeBadFrame, syncproto.CodeUnknownType:
		what, whatEN = "hỏng hoặc không đúng dạng", "damaged or malformed"
	case syncproto.CodeTooLarge:
		what, whatEN = "quá lớn", "too large"
	case syncproto.CodeUnexpected:
		what, whatEN = "không đúng thứ tự", "out of order"
	default:
		return syncproto.Hint(code, lang)
	}
	return pick(lang,
		"Máy chủ gửi về dữ liệu mà máy này không đọc được ("+what+"). Dữ liệu trên máy vẫn an toàn, không mất gì. Hãy đồng bộ lại; nếu lỗi lặp lại, hãy báo cán bộ CNTT: máy chủ hoặc đường truyền có thể có vấn đề (nên dùng địa chỉ https://), hoặc Hamlet trên máy này hay trên máy chủ cần cập nhật.",
		"The server sent data this laptop cannot read ("+whatEN+"). Your data on this laptop is safe; nothing was lost. Sync again; if this repeats, tell IT staff: the server or the network path may be at fault (an https:// address is safer), or Hamlet on this laptop or on the server needs updating.")
}
