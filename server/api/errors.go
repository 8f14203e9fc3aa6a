package api

import (
	"fmt"
	"net/http"

	"github.com/hamlet-vn/hamlet/server"
)

// The API's own refusals. Every error reaches the client through
// server.WriteHTTPError, the one place errors become HTTP answers.

var errNotSignedIn = &server.APIError{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "sign in first (no session, or it expired)",
	HintVI: "Phiên đăng nhập không có hoặc đã hết hạn. Hãy đăng nhập lại.", HintEN: "You are not signed in or your session expired. Sign in again."}

// BadParam is a 400 naming the query parameter at fault, whose hints say
// what is wrong in each language, whole: a Vietnamese hint with an English
// detail in it ("Tham số "status" không hợp lệ: unknown status") is what a
// leader read on an error page before (issue 21, item 22).
func BadParam(name, vi, en string) *server.APIError { return server.BadParamText(name, vi, en) }

// ErrReportOutOfUnit refuses a field report outside the caller's unit. It
// names no unit: where a report is, is part of the report.
var ErrReportOutOfUnit = &server.APIError{Status: http.StatusForbidden, Code: "out_of_unit", Message: "the field report lies outside the unit your account is bound to",
	HintVI: "Phản ánh này nằm ngoài địa bàn tài khoản của bạn được xem.",
	HintEN: "This field report lies outside the area your account may see."}

// ErrForbiddenRole refuses what the user's role may not do.
func ErrForbiddenRole(what string) *server.APIError {
	return &server.APIError{Status: http.StatusForbidden, Code: "forbidden", Message: "your role may not " + what,
		HintVI: "Tài khoản của bạn không có quyền thực hiện việc này. Hãy liên hệ cán bộ điều phối phản ánh.",
		HintEN: "Your account may not do this. Ask a report coordinator."}
}

// ErrOutOfUnit refuses a unit outside the user's.
func ErrOutOfUnit(unit string) *server.APIError {
	return &server.APIError{Status: http.StatusForbidden, Code: "out_of_unit", Message: fmt.Sprintf("unit %s is outside the unit your account is bound to", unit),
		HintVI: fmt.Sprintf("Đơn vị %s nằm ngoài địa bàn tài khoản của bạn được xem.", unit),
		HintEN: fmt.Sprintf("Unit %s is outside the area your account may see.", unit)}
}

// errUnitChanged is the API's answer to an account awaiting confirmation.
func errUnitChanged(u server.User) *server.APIError {
	return &server.APIError{Status: http.StatusForbidden, Code: "unit_changed",
		Message: fmt.Sprintf("the area of unit %s changed on %s; an operator must confirm this account's unit (hamlet-server user rebind) before it sees data", u.UnitCode, u.UnitChangedOn),
		HintVI: fmt.Sprintf("Địa bàn của tài khoản đã thay đổi: đơn vị %s được sắp xếp lại từ ngày %s. Tài khoản tạm thời không xem được số liệu cho tới khi quản trị viên hệ thống Hamlet (cán bộ CNTT quản lý máy chủ) xác nhận bằng lệnh: hamlet-server user rebind --username %s",
			u.UnitCode, u.UnitChangedOn, u.Username),
		HintEN: fmt.Sprintf("Your account's area changed: unit %s was reorganised on %s. The account shows no data until the Hamlet system operator (the IT staff who run the server) confirms it with: hamlet-server user rebind --username %s",
			u.UnitCode, u.UnitChangedOn, u.Username)}
}
