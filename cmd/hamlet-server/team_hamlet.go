package main

import (
	"context"
	"errors"
	"strings"
)

func init() {
	register(command{name: "team add-hamlet", vi: "thêm một ấp/khóm cho tổ (--team, --hamlet); máy của tổ chỉ tải thêm dữ liệu ấp/khóm đó",
		en: "add a hamlet to a team (--team, --hamlet); the team's laptops fetch only that hamlet's data", run: runTeamAddHamlet})
	register(command{name: "team remove-hamlet", vi: "bỏ một ấp/khóm khỏi tổ (--team, --hamlet); máy của tổ gửi thay đổi còn lại rồi xóa dữ liệu ấp/khóm đó",
		en: "remove a hamlet from a team (--team, --hamlet); the team's laptops push what they hold, then drop that hamlet's data", run: runTeamRemoveHamlet})
}

func runTeamAddHamlet(ctx context.Context, e *env, args []string) error {
	return runTeamHamlet(ctx, e, "team add-hamlet", true, args)
}

func runTeamRemoveHamlet(ctx context.Context, e *env, args []string) error {
	return runTeamHamlet(ctx, e, "team remove-hamlet", false, args)
}

func runTeamHamlet(ctx context.Context, e *env, name string, add bool, args []string) error {
	fs := e.flags(name)
	e.jsonFlag(fs)
	team := fs.String("team", "", e.msg("mã tổ (xem: hamlet-server team list)", "team id (see: hamlet-server team list)"))
	hamlet := fs.String("hamlet", "", e.msg("mã ấp/khóm, ví dụ 32002-03", "hamlet code, e.g. 32002-03"))
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	*team, *hamlet = strings.TrimSpace(*team), strings.TrimSpace(*hamlet)
	if *team == "" || *hamlet == "" {
		return errors.New(e.msg("cần --team và --hamlet", "--team and --hamlet are required"))
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	var changed bool
	slip := named{team: *team}
	if add {
		changed, err = s.Admin().AddTeamHamlet(ctx, *team, *hamlet)
		slip.hamlets = []string{*hamlet}
	} else {
		changed, err = s.Admin().RemoveTeamHamlet(ctx, *team, *hamlet)
	}
	if err != nil {
		return e.refusal(ctx, s, err, slip)
	}
	if e.json {
		return e.printJSON(map[string]any{"team": *team, "hamlet": *hamlet, "added": add, "changed": changed})
	}
	switch {
	case !changed && add:
		e.printf("Tổ %s đã phụ trách ấp/khóm %s: không có gì thay đổi.\n", "Team %s already covers hamlet %s: nothing changed.\n", *team, *hamlet)
	case !changed:
		e.printf("Tổ %s không phụ trách ấp/khóm %s: không có gì thay đổi.\n", "Team %s does not cover hamlet %s: nothing changed.\n", *team, *hamlet)
	case add:
		e.printf("Đã thêm ấp/khóm %s cho tổ %s. Máy của tổ sẽ kết nối lại trong vài giây và chỉ tải dữ liệu của ấp/khóm này.\n",
			"Added hamlet %s to team %s. The team's laptops reconnect within seconds and fetch only this hamlet's data.\n", *hamlet, *team)
	default:
		e.printf("Đã bỏ ấp/khóm %s khỏi tổ %s. Máy của tổ sẽ gửi các thay đổi còn lại (thay đổi ghi trước lúc này vẫn được nhận), rồi xóa dữ liệu của ấp/khóm này.\n",
			"Removed hamlet %s from team %s. The team's laptops push what they hold (changes made before now are still accepted), then drop this hamlet's data.\n", *hamlet, *team)
	}
	return nil
}
