package main

import (
	"context"
	"errors"
	"time"

	"github.com/hamlet-vn/hamlet/server"
)

func init() {
	register(command{name: "code issue", vi: "cấp mã đăng ký thiết bị dùng một lần (--member, --ttl)",
		en: "issue a one-time enrollment code (--member, --ttl)", run: runCodeIssue})
}

func runCodeIssue(ctx context.Context, e *env, args []string) error {
	fs := e.flags("code issue")
	e.jsonFlag(fs)
	member := fs.String("member", "", e.msg("mã thành viên", "member id"))
	ttl := fs.Duration("ttl", server.DefaultCodeTTL, e.msg("thời hạn của mã", "how long the code is valid"))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *member == "" {
		return errors.New(e.msg("cần --member", "--member is required"))
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	code, exp, err := s.Admin().IssueCode(ctx, *member, *ttl)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(map[string]any{"code": code, "expires": exp, "member_id": *member})
	}
	e.printf("Mã đăng ký: %s  (dùng một lần, hết hạn %s)\n", "Enrollment code: %s  (one-time, expires %s)\n", code, exp.Local().Format(time.DateTime))
	return nil
}
