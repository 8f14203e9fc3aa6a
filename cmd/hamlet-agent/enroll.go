package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/hamlet-vn/hamlet/agent"
)

func runEnroll(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("enroll", flag.ContinueOnError)
	server := fs.String("server", "", e.tr("`ĐỊA_CHỈ` địa chỉ máy chủ, ví dụ https://hamlet.camau.gov.vn", "`URL` server address, e.g. https://hamlet.camau.gov.vn"))
	code := fs.String("code", "", e.tr("`MÃ` mã đăng ký do cán bộ CNTT cấp", "`CODE` enrollment code from IT staff"))
	host, _ := os.Hostname()
	label := fs.String("label", host, e.tr("`TÊN` tên máy này", "`NAME` name of this laptop"))
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if *server == "" || *code == "" {
		return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent enroll --server ĐỊA_CHỈ --code MÃ", "Usage: hamlet-agent enroll --server URL --code CODE"))
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	prev, err := r.Enrollment(ctx) // re-enrolling keeps the replica: say so (reenroll.go)
	if err != nil {
		return err
	}
	path, err := e.tokenPath()
	if err != nil {
		return err
	}
	// The token is stored before the enrollment, which is the commit: a
	// process killed in between is not enrolled and enroll runs again with
	// the same code (issue 14).
	token, en, err := r.EnrollWith(ctx, *server, *code, *label, func(token string) error { return agent.WriteToken(path, token) })
	if err != nil {
		return agent.EnrollFailure(err, path)
	}
	if e.json {
		return e.printJSON(en)
	}
	_ = r.RefreshRoster(ctx, *server, token) // names for conflicts and histories; best effort
	fmt.Fprintf(e.stdout, e.tr("Đã đăng ký máy này với %s (máy chủ %s).\n", "This laptop is enrolled with %s (server %s).\n"), teamName(e, en.TeamName), en.Server)
	for _, h := range en.Scope {
		fmt.Fprintf(e.stdout, "  %s  %s\n", h.Code, h.Name)
	}
	if prev != nil && prev.DeviceID != en.DeviceID { // the same device: an enroll cut off and run again
		e.reenrolled(ctx, r, prev, en)
	}
	fmt.Fprintln(e.stdout, e.tr("Tiếp theo: hamlet-agent sync", "Next: hamlet-agent sync"))
	return nil
}
