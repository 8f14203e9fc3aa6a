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
	server := fs.String("server", "", e.tr("địa chỉ máy chủ, ví dụ https://hamlet.camau.gov.vn", "server address, e.g. https://hamlet.camau.gov.vn"))
	code := fs.String("code", "", e.tr("mã đăng ký do cán bộ CNTT cấp", "enrollment code from IT staff"))
	host, _ := os.Hostname()
	label := fs.String("label", host, e.tr("tên máy này", "name of this laptop"))
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
	_, en, err := r.EnrollWith(ctx, *server, *code, *label, func(token string) error { return agent.WriteToken(path, token) })
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(en)
	}
	fmt.Fprintf(e.stdout, "%s %s (%s)\n", e.tr("Đã đăng ký với tổ", "Enrolled with team"), en.TeamName, en.Server)
	for _, h := range en.Scope {
		fmt.Fprintf(e.stdout, "  %s  %s\n", h.Code, h.Name)
	}
	if prev != nil && prev.DeviceID != en.DeviceID { // the same device: an enroll cut off and run again
		e.reenrolled(ctx, r, prev, en)
	}
	fmt.Fprintln(e.stdout, e.tr("Tiếp theo: hamlet-agent sync", "Next: hamlet-agent sync"))
	return nil
}
