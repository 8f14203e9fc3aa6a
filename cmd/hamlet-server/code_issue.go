package main

import (
	"context"
	"fmt"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/server"
)

func init() {
	register(command{name: "code issue", vi: "cấp mã đăng ký thiết bị dùng một lần cho một thành viên (--ttl: thời hạn)",
		en: "issue a one-time enrollment code for a member (--ttl: how long it is valid)", run: runCodeIssue, args: [2]string{"MÃ_THÀNH_VIÊN", "MEMBER_ID"}})
}

func runCodeIssue(ctx context.Context, e *env, args []string) error {
	fs := e.flags("code issue")
	e.jsonFlag(fs)
	byFlag := fs.String("member", "", e.msg("`MÃ_THÀNH_VIÊN` như viết sau tên lệnh (cách viết cũ)", "`MEMBER_ID` as after the command's name (the older form)"))
	ttl := fs.Duration("ttl", server.DefaultCodeTTL, e.msg("thời hạn của mã, lớn hơn 0, ví dụ 24h", "how long the code is valid, more than 0, e.g. 24h"))
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if *ttl <= 0 {
		// The server takes a lifetime <= 0 as the default one: a typo
		// ("-1h" for "1h") would quietly issue a 72-hour code.
		fmt.Fprintf(e.stderr, "%s: %s. %s hamlet-server %s --help\n", e.msg("Lỗi", "Error"),
			fmt.Sprintf(e.msg("--ttl %s không hợp lệ: thời hạn của mã phải lớn hơn 0, ví dụ 24h hoặc 30m (mặc định %s)",
				"--ttl %s is invalid: a code's lifetime must be more than 0, e.g. 24h or 30m (default %s)"), *ttl, server.DefaultCodeTTL),
			e.msg("Xem:", "See:"), fs.Name())
		return errUsage
	}
	id, err := e.one(fs, pos, *byFlag, e.msg("một mã thành viên (in khi thêm: hamlet-server member add)", "member id (printed by hamlet-server member add)"))
	if err != nil {
		return err
	}
	member := &id
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	code, exp, err := s.Admin().IssueCode(ctx, *member, *ttl)
	if err != nil {
		return e.refusal(ctx, s, err, named{member: *member})
	}
	if e.json {
		return e.printJSON(map[string]any{"code": code, "expires": exp, "member_id": *member})
	}
	e.printf("Mã đăng ký: %s  (dùng một lần, hết hạn %s)\n", "Enrollment code: %s  (one-time, expires %s)\n", code, i18n.DateTime(exp, e.lang))
	return nil
}
