package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hamlet-vn/hamlet/schema"
)

func init() {
	register(command{name: "member add", vi: "thêm thành viên vào tổ (--team, --name, --role leader|member, --phone)",
		en: "add a member to a team (--team, --name, --role leader|member, --phone)", run: runMemberAdd})
}

func runMemberAdd(ctx context.Context, e *env, args []string) error {
	fs := e.flags("member add")
	e.jsonFlag(fs)
	team := fs.String("team", "", e.msg("mã tổ", "team id"))
	name := fs.String("name", "", e.msg("họ tên", "full name"))
	role := fs.String("role", "member", "`leader|member` "+e.msg("vai trò: ", "role: ")+schema.EnumChoices(schema.EnumRole, e.lang))
	phone := fs.String("phone", "", e.msg("số điện thoại (tùy chọn)", "phone (optional)"))
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	if *team == "" || *name == "" {
		return errors.New(e.msg("cần --team và --name", "--team and --name are required"))
	}
	if !slices.Contains(schema.EnumValues(schema.EnumRole), *role) {
		return fmt.Errorf(e.msg("vai trò %q không có; chọn một trong: %s", "there is no role %q; pick one of: %s"), *role, schema.EnumChoices(schema.EnumRole, e.lang))
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	m, err := s.Admin().AddMember(ctx, *team, *name, *role, *phone)
	if err != nil {
		return e.refusal(ctx, s, err, named{team: *team})
	}
	if e.json {
		return e.printJSON(m)
	}
	e.printf("Đã thêm thành viên (mã %s). Cấp mã đăng ký: hamlet-server code issue --member %s\n",
		"Added member (id %s). Issue an enrollment code: hamlet-server code issue --member %s\n", m.ID, m.ID)
	return nil
}
