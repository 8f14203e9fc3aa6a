package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
)

// OpenError is why Open failed, in one line that says what to fix, in
// both of the CLI's languages: Error is the English line (logs, code);
// Message gives the operator's, Vietnamese unless lang is "en", as the
// hamlet-server CLI picks its messages. The driver's own words, quoted
// inside, stay as the driver says them.
type OpenError struct {
	vi, en string
	Err    error
}

func (e *OpenError) Error() string { return e.en }
func (e *OpenError) Unwrap() error { return e.Err }

// Message is the line in lang ("en": English; anything else: Vietnamese).
func (e *OpenError) Message(lang string) string {
	if lang == "en" {
		return e.en
	}
	return e.vi
}

// openErr makes an OpenError from a Vietnamese and an English format
// taking the same arguments.
func openErr(err error, vi, en string, args ...any) *OpenError {
	return &OpenError{vi: fmt.Sprintf(vi, args...), en: fmt.Sprintf(en, args...), Err: err}
}

// connectHint says what to check for a failed connection (Vietnamese,
// English).
func connectHint(err error) (string, string) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "28P01", "28000":
			return "kiểm tra tên người dùng và mật khẩu trong URL",
				"check the user name and password in the URL"
		case "3D000":
			return "tạo cơ sở dữ liệu (createdb) hoặc sửa tên của nó trong URL",
				"create the database (createdb) or fix its name in the URL"
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return "kiểm tra máy và cổng trong URL, và tường lửa có cho máy này kết nối tới không",
			"check the host and port in the URL and that a firewall lets this machine through"
	}
	return "kiểm tra máy, cổng, người dùng và cơ sở dữ liệu trong URL, và PostgreSQL có đang chạy không",
		"check the host, port, user and database in the URL and that PostgreSQL is running"
}
