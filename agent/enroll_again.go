package agent

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// AlreadyEnrolledError: a code was used on a laptop that is enrolled and
// whose device is active (the server answered replica_active naming this
// laptop's own device). Nothing needs doing; the code is not used up.
type AlreadyEnrolledError struct {
	TeamName, Label, DeviceID string
	Err                       error // the server's replica_active
}

func (e *AlreadyEnrolledError) Error() string {
	return fmt.Sprintf("agent: this laptop is already enrolled (device %s): %v", e.DeviceID, e.Err)
}

func (e *AlreadyEnrolledError) Unwrap() error { return e.Err }

func (e *AlreadyEnrolledError) Message(lang string) string { return e.message(lang, false) }

// AppMessage: the app has no --data-dir to give.
func (e *AlreadyEnrolledError) AppMessage(lang string) string { return e.message(lang, true) }

func (e *AlreadyEnrolledError) message(lang string, app bool) string {
	who, whoEN := "", ""
	if e.TeamName != "" {
		who, whoEN = fmt.Sprintf(" cho %s", e.TeamName), fmt.Sprintf(" for %s", e.TeamName)
	}
	if e.Label != "" {
		who += fmt.Sprintf(" (tên máy %q)", e.Label)
		whoEN += fmt.Sprintf(" (laptop name %q)", e.Label)
	}
	team := pick(lang, "Nếu máy chuyển sang tổ khác, hãy đồng bộ xong rồi chạy hamlet-agent với thư mục dữ liệu mới (--data-dir) và mã của tổ mới.",
		"If the laptop moves to another team, finish a sync, then run hamlet-agent with a new data directory (--data-dir) and the new team's code.")
	if app {
		team = pick(lang, "Nếu máy chuyển sang tổ khác, hãy đồng bộ xong rồi nhờ cán bộ CNTT cài cho tổ mới.",
			"If the laptop moves to another team, finish a sync, then ask IT staff to set it up for the new team.")
	}
	return pick(lang,
		fmt.Sprintf("Máy này đã được đăng ký%s và vẫn đang hoạt động: không cần làm gì thêm, mã vừa nhập chưa bị dùng (có thể bỏ đi hoặc trả lại cán bộ CNTT). Nếu máy chuyển cho người khác trong tổ, hãy nhờ cán bộ CNTT thu hồi máy này (hamlet-server device revoke --device %s) rồi đăng ký lại bằng mã của người đó. %s", who, e.DeviceID, team),
		fmt.Sprintf("This laptop is already enrolled%s and working: nothing needs doing, and the code just entered is not used up (discard it or give it back to IT staff). If the laptop passes to another person of the team, ask IT staff to revoke this laptop (hamlet-server device revoke --device %s), then enroll again with that person's code. %s", whoEN, e.DeviceID, team))
}

// alreadyEnrolled makes a replica_active refusal that names this laptop's
// own device an *AlreadyEnrolledError; any other stays as it is.
func alreadyEnrolled(se *ServerError, prev *Enrollment) error {
	if se.Code != syncproto.CodeReplicaActive || prev == nil || prev.DeviceID == "" || !strings.Contains(se.Msg, prev.DeviceID) {
		return se
	}
	return &AlreadyEnrolledError{TeamName: prev.TeamName, Label: prev.Label, DeviceID: prev.DeviceID, Err: se}
}

// EnrollFailure is what to tell of an enrollment's error when the laptop
// keeps its token at tokenPath: an *AlreadyEnrolledError on a laptop that
// lost its token is the server's replica_active (the device to revoke is
// this laptop's, which can no longer sync).
func EnrollFailure(err error, tokenPath string) error {
	var ae *AlreadyEnrolledError
	if errors.As(err, &ae) {
		if _, terr := ReadToken(tokenPath); terr != nil {
			return ae.Err
		}
	}
	return err
}
