package agent

import (
	"context"
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

// ReplicaActiveError: the server refused a code because this laptop's
// replica is still on a device that is active (replica_active), and named
// that device. The code is not used up; IT staff revoke the device first.
// The code's hint alone said "hamlet-server device revoke" without the
// device: a laptop whose enrollment a repair left out does not know it,
// and IT staff had to guess among the team's laptops.
type ReplicaActiveError struct {
	DeviceID string
	Err      *ServerError
}

func (e *ReplicaActiveError) Error() string { return e.Err.Error() }

func (e *ReplicaActiveError) Unwrap() error { return e.Err }

func (e *ReplicaActiveError) Message(lang string) string {
	return pick(lang,
		fmt.Sprintf("Máy này vẫn đang được đăng ký trên thiết bị %s, thiết bị đó còn hoạt động, nên chưa thể đăng ký lại. Hãy nhờ cán bộ CNTT thu hồi thiết bị đó (hamlet-server device revoke --device %s) rồi chạy lại hamlet-agent enroll với cùng mã. Mã chưa bị dùng và dữ liệu trên máy vẫn được giữ nguyên.", e.DeviceID, e.DeviceID),
		fmt.Sprintf("This laptop's replica is still enrolled on device %s, which is active, so it cannot enroll again. Ask IT staff to revoke that device (hamlet-server device revoke --device %s), then run hamlet-agent enroll again with the same code. The code is not used up and the data on this laptop is kept.", e.DeviceID, e.DeviceID))
}

// AppMessage: the app enrolls with its own form.
func (e *ReplicaActiveError) AppMessage(lang string) string {
	return pick(lang,
		fmt.Sprintf("Máy này vẫn đang được đăng ký trên thiết bị %s, thiết bị đó còn hoạt động, nên chưa thể đăng ký lại. Hãy nhờ cán bộ CNTT thu hồi thiết bị đó (hamlet-server device revoke --device %s) rồi nhập lại cùng mã. Mã chưa bị dùng và dữ liệu trên máy vẫn được giữ nguyên.", e.DeviceID, e.DeviceID),
		fmt.Sprintf("This laptop's replica is still enrolled on device %s, which is active, so it cannot enroll again. Ask IT staff to revoke that device (hamlet-server device revoke --device %s), then enter the same code again. The code is not used up and the data on this laptop is kept.", e.DeviceID, e.DeviceID))
}

// activeDevice is the device a replica_active refusal names: the body's
// device_id (PROTOCOL.md §2.4); from a server before that field, its
// message, which says "... revoke that device first (hamlet-server device
// revoke --device ID)"; "" when it names none.
func activeDevice(se *ServerError) string {
	if se.DeviceID != "" {
		return se.DeviceID
	}
	_, rest, ok := strings.Cut(se.Msg, "--device ")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ")")
	if id = strings.TrimSpace(id); id == "" || strings.ContainsAny(id, " \t\n") {
		return ""
	}
	return id
}

// alreadyEnrolled makes a replica_active refusal that names this laptop's
// own device an *AlreadyEnrolledError, and one that names another device
// (the enrollment a repair left out) a *ReplicaActiveError; any other
// stays as it is.
func alreadyEnrolled(se *ServerError, prev *Enrollment) error {
	if se.Code != syncproto.CodeReplicaActive {
		return se
	}
	var err error = se
	id := activeDevice(se)
	if id != "" {
		err = &ReplicaActiveError{DeviceID: id, Err: se}
	}
	if prev == nil || prev.DeviceID == "" {
		return err
	}
	// A server before device_id named it only in its message.
	if own := id == prev.DeviceID || se.DeviceID == "" && strings.Contains(se.Msg, prev.DeviceID); !own {
		return err
	}
	return &AlreadyEnrolledError{TeamName: prev.TeamName, Label: prev.Label, DeviceID: prev.DeviceID, Err: err}
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

// metaEnrollmentLeftOut set: a repair left out this replica's enrollment
// (it did not read) though the laptop was enrolled, and kept its replica
// id (buildRepaired). The server knows that replica, on a device still
// active, and refuses a new code for it until IT staff revoke that device
// (replica_active): a laptop that says only "get a code and enroll" sends
// the volunteer back to them. Enrolling clears it.
const metaEnrollmentLeftOut = "enrollment_left_out"

// EnrollmentLeftOut reports whether a repair left out this laptop's
// enrollment (metaEnrollmentLeftOut), and it is not enrolled since.
func (r *Replica) EnrollmentLeftOut(ctx context.Context) bool {
	s, err := r.meta(ctx, r.db, metaEnrollmentLeftOut)
	return err == nil && s != ""
}

// NotEnrolled is the *NotEnrolledError of this laptop: one that names its
// replica, to have its old device revoked, when a repair left out its
// enrollment.
func (r *Replica) NotEnrolled(ctx context.Context) *NotEnrolledError {
	if r.EnrollmentLeftOut(ctx) {
		return &NotEnrolledError{LeftOut: shortID(r.id.String())}
	}
	return &NotEnrolledError{}
}

// EnrollAgainSteps says what a laptop whose enrollment a repair left out
// needs to sync again, replica being its replica id (short): IT staff
// revoke its old device, found by the replica in the REPLICA column of
// hamlet-server device list, and give a new code; the server takes the
// code only once the device is revoked. With no replica (one given a new
// id, that the server never saw), a new code is all it takes.
func EnrollAgainSteps(lang, replica string) string {
	if replica == "" {
		return pick(lang,
			"Hãy xin cán bộ CNTT một mã đăng ký mới rồi chạy: hamlet-agent enroll --server ĐỊA_CHỈ --code MÃ. Các bản ghi trên máy sẽ được gửi sau khi đăng ký.",
			"Ask IT staff for a new enrollment code, then run: hamlet-agent enroll --server URL --code CODE. The records on this laptop will be sent once enrolled.")
	}
	return fmt.Sprintf(pick(lang,
		"Hãy nhờ cán bộ CNTT làm hai việc: thu hồi thiết bị cũ của máy này (thiết bị có bản dữ liệu %s trong hamlet-server device list: hamlet-server device revoke --device MÃ_THIẾT_BỊ), và cấp một mã đăng ký mới. Sau đó chạy: hamlet-agent enroll --server ĐỊA_CHỈ --code MÃ. Máy chủ chỉ nhận mã mới sau khi thiết bị cũ đã bị thu hồi. Các bản ghi trên máy sẽ được gửi sau khi đăng ký.",
		"Ask IT staff for two things: to revoke this laptop's old device (the one with replica %s in hamlet-server device list: hamlet-server device revoke --device DEVICE_ID), and a new enrollment code. Then run: hamlet-agent enroll --server URL --code CODE. The server takes the new code only once the old device is revoked. The records on this laptop will be sent once enrolled."), replica)
}
