package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/hamlet-vn/hamlet/schema"
)

func init() {
	register(command{name: "unit list", vi: "liệt kê các xã/phường đang có hiệu lực, hoặc các ấp/khóm của một xã/phường (--commune)",
		en: "list the communes in force, or the hamlets of a commune (--commune)", run: runUnitList})
}

func runUnitList(ctx context.Context, e *env, args []string) error {
	fs := e.flags("unit list")
	e.jsonFlag(fs)
	commune := fs.String("commune", "", e.msg("mã xã/phường: liệt kê các ấp/khóm của nó", "commune code: list its hamlets"))
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	*commune = strings.TrimSpace(*commune)
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	a := s.Admin()
	if *commune != "" {
		// An unknown commune is told as team create tells it.
		if err := e.missing(ctx, s, nil, named{commune: *commune}); err != nil {
			return err
		}
		hamlets, err := a.Units(ctx, schema.LevelHamlet, *commune)
		if err != nil {
			return err
		}
		if e.json {
			return e.printJSON(append([]schema.AdminUnit{}, hamlets...))
		}
		if note := e.retiredNote(ctx, s, *commune); note != "" && len(hamlets) == 0 {
			fmt.Fprintln(e.stdout, capitalise(note)+e.msg(": xem các ấp/khóm ở đó (hamlet-server unit list --commune MÃ).", ": see the hamlets there (hamlet-server unit list --commune CODE)."))
			return nil
		}
		var rows [][]string
		for _, u := range hamlets {
			rows = append(rows, []string{u.Code, u.Name})
		}
		e.table(e.msg("MÃ\tTÊN", "CODE\tNAME"), rows)
		if len(hamlets) == 0 {
			e.printf("Xã/phường %s chưa có ấp/khóm nào; thêm: hamlet-server unit add-hamlets --commune %s --count SỐ (hoặc --file)\n",
				"Commune %s has no hamlets yet; add them: hamlet-server unit add-hamlets --commune %s --count N (or --file)\n", *commune, *commune)
		}
		return nil
	}
	communes, err := a.Units(ctx, schema.LevelCommune, "")
	if err != nil {
		return err
	}
	hamlets, err := a.Units(ctx, schema.LevelHamlet, "")
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, h := range hamlets {
		count[h.ParentCode]++
	}
	inForce := []schema.AdminUnit{}
	for _, c := range communes {
		if c.RetiredOn == "" {
			inForce = append(inForce, c)
		}
	}
	if e.json {
		return e.printJSON(inForce)
	}
	if len(inForce) == 0 {
		e.printf("Chưa có xã/phường nào; hãy nạp danh mục đơn vị: hamlet-server units import\n", "No communes yet; import the units: hamlet-server units import\n")
		return nil
	}
	var rows [][]string
	for _, c := range inForce {
		rows = append(rows, []string{c.Code, unitName(c), fmt.Sprint(count[c.Code])})
	}
	e.table(e.msg("MÃ\tTÊN\tSỐ ẤP/KHÓM", "CODE\tNAME\tHAMLETS"), rows)
	return nil
}
