package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// errTooManyAttempts: an enrollment client failed too often recently.
var errTooManyAttempts = syncproto.Errorf(syncproto.CodeTooManyAttempts, "too many wrong enrollment codes from this address; wait a few minutes")

// errTooManyCodes is the answer to an enrollment from an address that must
// wait: too_many_attempts, 429, and hints that say how long (an agent
// before too_many_attempts shows the server's hint).
func errTooManyCodes(wait time.Duration) *APIError {
	e := HTTPError(errTooManyAttempts)
	e.RetryAfter = wait
	e.HintVI = fmt.Sprintf("Máy chủ tạm ngừng nhận đăng ký từ mạng này vì đã có quá nhiều lần nhập sai mã (có thể từ máy khác dùng chung mạng). Chưa chắc mã của bạn sai: máy chủ chưa kiểm tra mã này. Hãy đợi khoảng %s rồi thử lại với đúng mã này; mã chưa bị dùng.", WaitText(wait, "vi"))
	e.HintEN = fmt.Sprintf("The server has paused enrollments from this network after too many wrong codes (perhaps from other laptops on the same network). Your code is not necessarily wrong: the server did not check it. Wait about %s, then try again with the same code; it is not used up.", WaitText(wait, "en"))
	return e
}

// errReplaced: a newer session of the same device started.
var errReplaced = syncproto.Errorf(syncproto.CodeSessionReplaced, "a newer session of this device started; this one ends")

// errShuttingDown: the server is stopping.
var errShuttingDown = syncproto.Errorf(syncproto.CodeShuttingDown, "the server is shutting down")

// protoError turns any error of the server into a protocol *Error: the one
// place domain errors get their code.
func protoError(err error) *syncproto.Error {
	var pe *syncproto.Error
	var ve *schema.ValidationError
	var ge *gapError
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.As(err, &ge):
		return syncproto.Errorf(syncproto.CodeSequenceGap, "%s; resend from Welcome.PushedSeq", ge.Error())
	case errors.Is(err, ErrCodeInvalid):
		return syncproto.Errorf(syncproto.CodeCodeInvalid, "unknown enrollment code")
	case errors.Is(err, ErrCodeExpired):
		return syncproto.Errorf(syncproto.CodeCodeExpired, "the enrollment code has expired")
	case errors.Is(err, ErrCodeUsed):
		return syncproto.Errorf(syncproto.CodeCodeUsed, "the enrollment code was already used")
	case errors.As(err, &ve):
		return syncproto.Errorf(syncproto.CodeInvalidValue, "%s", ve.Message("en"))
	case errors.Is(err, ErrBusy):
		return &syncproto.Error{Code: syncproto.CodeBusy, Msg: "the server is busy; retry after a pause", Err: err}
	case errors.Is(err, ErrReplicaActive):
		return &syncproto.Error{Code: syncproto.CodeReplicaActive, Msg: replicaMsg(err)}
	case errors.Is(err, ErrReplicaTeam):
		return &syncproto.Error{Code: syncproto.CodeReplicaTeam, Msg: replicaMsg(err)}
	}
	return &syncproto.Error{Code: syncproto.CodeInternal, Msg: "internal error", Err: err}
}

// wireError is the ErrorMsg for err. Codes that leave the session unusable
// are fatal.
func wireError(err error) *syncproto.ErrorMsg {
	pe := protoError(err)
	msg := pe.Msg
	if pe.Code == syncproto.CodeInternal || pe.Code == syncproto.CodeUnavailable {
		msg = "the server could not complete the request; retry later"
	}
	fatal := false
	switch pe.Code {
	case syncproto.CodeBadFrame, syncproto.CodeTooLarge, syncproto.CodeUnknownType, syncproto.CodeVersionMismatch,
		syncproto.CodeUnauthorized, syncproto.CodeTokenRevoked, syncproto.CodeShuttingDown, syncproto.CodeScopeChanged,
		syncproto.CodeSessionReplaced, syncproto.CodeReplicaForked:
		fatal = true
	}
	return &syncproto.ErrorMsg{Code: pe.Code, Msg: msg, Fatal: fatal}
}

func httpStatus(code syncproto.Code) int {
	switch code {
	case syncproto.CodeCodeInvalid:
		return http.StatusBadRequest // PROTOCOL.md §3
	case syncproto.CodeCodeExpired:
		return http.StatusGone
	case syncproto.CodeCodeUsed, syncproto.CodeReplicaActive, syncproto.CodeReplicaTeam, syncproto.CodeOtherServer:
		return http.StatusConflict
	case syncproto.CodeUnauthorized:
		return http.StatusUnauthorized
	case syncproto.CodeTokenRevoked:
		return http.StatusForbidden
	case syncproto.CodeBadFrame, syncproto.CodeInvalidValue, syncproto.CodeUnexpected:
		return http.StatusBadRequest
	case syncproto.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case syncproto.CodeVersionMismatch:
		return http.StatusUpgradeRequired
	case syncproto.CodeBusy, syncproto.CodeTooManyAttempts:
		return http.StatusTooManyRequests
	case syncproto.CodeShuttingDown, syncproto.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON error of every HTTP endpoint; the agent reads it
// (syncproto declares it for both).
type (
	ErrorBody   = syncproto.ErrorBody
	ErrorDetail = syncproto.ErrorDetail
)

// HTTPError is the one place errors become HTTP answers: the status, the
// stable code, the message and the hints of err, whether it is written as
// the JSON error body (WriteHTTPError: the sync endpoints, the JSON API) or
// as a dashboard page. An *APIError is its own answer; every other error
// gets its protocol code (protoError), and an internal one says no more.
func HTTPError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	pe := protoError(err)
	e := &APIError{Status: httpStatus(pe.Code), Code: string(pe.Code), Message: pe.Msg,
		HintVI: syncproto.Hint(pe.Code, "vi"), HintEN: syncproto.Hint(pe.Code, "en")}
	if pe.Code == syncproto.CodeBusy {
		e.RetryAfter = 5 * time.Second
	}
	if pe.Code == syncproto.CodeInternal {
		e.Message = "internal error"
	}
	var re *ReplicaError
	if (pe.Code == syncproto.CodeReplicaActive || pe.Code == syncproto.CodeReplicaTeam) && errors.As(err, &re) {
		e.DeviceID = re.DeviceID
	}
	return e
}

// WriteHTTPError writes err as the JSON error body (HTTPError says what).
func WriteHTTPError(w http.ResponseWriter, err error) {
	if err == errTooManyAttempts && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "300") // the enrollment handler sets the exact wait
	}
	writeAPIError(w, HTTPError(err))
}

// WriteJSON writes v as a JSON answer that no cache keeps.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
