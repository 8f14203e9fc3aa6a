package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
)

// errText is an error as the operator reads it. The commands' own
// messages are already in the operator's language; what the system says
// about a file is English ("open x: no such file or directory"), so the
// usual cases are told in words, with the file's name.
func (e *env) errText(err error) string {
	var pe *fs.PathError
	if e.lang == "en" || !errors.As(err, &pe) {
		return err.Error()
	}
	op := map[string]string{"open": "mở", "stat": "đọc thông tin", "read": "đọc", "write": "ghi", "mkdir": "tạo thư mục", "remove": "xóa", "rename": "đổi tên"}[pe.Op]
	if op == "" {
		op = "dùng"
	}
	why := pe.Err.Error()
	switch {
	case errors.Is(pe.Err, fs.ErrNotExist):
		why = "không có tệp hoặc thư mục này"
	case errors.Is(pe.Err, fs.ErrPermission):
		why = "không có quyền (kiểm tra quyền của tệp, hoặc chạy bằng người dùng khác)"
	case errors.Is(pe.Err, fs.ErrExist):
		why = "tệp đã tồn tại"
	case errors.Is(pe.Err, syscall.EISDIR):
		why = "đây là một thư mục, không phải tệp"
	case errors.Is(pe.Err, syscall.ENOSPC):
		why = "ổ đĩa đã đầy"
	}
	// Keep what the command said around it ("lịch làm việc x.json: ...").
	return strings.Replace(err.Error(), pe.Error(), fmt.Sprintf("không %s được tệp %s: %s", op, pe.Path, why), 1)
}
