package main

import (
	"context"
	"errors"
	"strings"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/server"
)

func init() {
	register(command{name: "team create", vi: "tạo tổ (--commune, --name, --hamlets 32002-01,32002-02)",
		en: "create a team (--commune, --name, --hamlets 32002-01,32002-02)", run: runTeamCreate})
	register(command{name: "team list", vi: "liệt kê các tổ", en: "list teams", run: runTeamList})
}

func runTeamCreate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("team create")
	e.jsonFlag(fs)
	commune := fs.String("commune", "", e.msg("mã xã/phường", "commune code"))
	name := fs.String("name", "", e.msg("tên tổ", "team name"))
	hamlets := fs.String("hamlets", "", e.msg("các mã ấp/khóm, cách nhau bởi dấu phẩy", "comma-separated hamlet codes"))
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	if *commune == "" || *name == "" || *hamlets == "" {
		return errors.New(e.msg("cần --commune, --name và --hamlets", "--commune, --name and --hamlets are required"))
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	var hs []string
	for _, h := range strings.Split(*hamlets, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hs = append(hs, h)
		}
	}
	t, err := s.Admin().CreateTeam(ctx, *commune, *name, hs)
	if err != nil {
		return e.refusal(ctx, s, err, named{commune: *commune, hamlets: hs})
	}
	if e.json {
		return e.printJSON(t)
	}
	e.printf("Đã tạo tổ %s (mã %s), phụ trách %s.\n", "Created team %s (id %s), covering %s.\n", t.Name, t.ID, strings.Join(t.Hamlets, ", "))
	return nil
}

func runTeamList(ctx context.Context, e *env, args []string) error {
	fs := e.flags("team list")
	e.jsonFlag(fs)
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	teams, err := s.Admin().Teams(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(teams)
	}
	var rows [][]string
	i18n.SortByKeys(teams, func(t server.Team) []string { return []string{t.CommuneCode, t.Name, t.ID} })
	for _, t := range teams {
		rows = append(rows, []string{t.ID, t.CommuneCode, t.Name, strings.Join(t.Hamlets, ",")})
	}
	e.table(e.msg("MÃ TỔ\tXÃ\tTÊN\tẤP/KHÓM", "TEAM ID\tCOMMUNE\tNAME\tHAMLETS"), rows)
	return nil
}
