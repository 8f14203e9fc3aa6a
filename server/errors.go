package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// errTooManyAttempts: an enrollment client failed too often recently.
var errTooManyAttempts = syncproto.Errorf(syncproto.CodeCodeInvalid, "too many wrong enrollment codes from this address; wait a few minutes")

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
		return http.StatusBadRequest // PROTOCOL.md §3 (429 when rate-limited: writeHTTPError)
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
	case syncproto.CodeBusy:
		return http.StatusTooManyRequests
	case syncproto.CodeShuttingDown, syncproto.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON error of every HTTP endpoint.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong (message, English, for logs and
// developers) and what to do (hint, Vietnamese; hint_en, English).
type ErrorDetail struct {
	Code    syncproto.Code `json:"code"`
	Message string         `json:"message"`
	Hint    string         `json:"hint"`
	HintEN  string         `json:"hint_en"`
}

// writeHTTPError is the one place errors become HTTP responses.
func writeHTTPError(w http.ResponseWriter, err error) {
	var ae *APIError
	if errors.As(err, &ae) {
		writeAPIError(w, ae) // api_errors.go
		return
	}
	pe := protoError(err)
	status := httpStatus(pe.Code)
	if err == errTooManyAttempts {
		status = http.StatusTooManyRequests
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "300")
		}
	}
	if pe.Code == syncproto.CodeBusy {
		w.Header().Set("Retry-After", "5")
	}
	msg := pe.Msg
	if pe.Code == syncproto.CodeInternal {
		msg = "internal error"
	}
	writeJSON(w, status, ErrorBody{Error: ErrorDetail{Code: pe.Code, Message: msg,
		Hint: syncproto.Hint(pe.Code, "vi"), HintEN: syncproto.Hint(pe.Code, "en")}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
