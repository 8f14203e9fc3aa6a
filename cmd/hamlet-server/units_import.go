package main

import (
	"context"
	"fmt"
	"os"

	"github.com/hamlet-vn/hamlet/schema"
)

func init() {
	register(command{name: "units import", vi: "nạp danh mục đơn vị hành chính từ tệp CSV (--format 2022|2025)",
		en: "import admin units from a CSV file (--format 2022|2025)", run: runUnitsImport, args: [2]string{"TỆP.csv", "FILE.csv"}})
}

func runUnitsImport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("units import")
	e.jsonFlag(fs)
	byFlag := fs.String("file", "", e.msg("`TỆP.csv` như viết sau tên lệnh (cách viết cũ)", "`FILE.csv` as after the command's name (the older form)"))
	format := fs.String("format", "2025", e.msg("`2022|2025` định dạng của tệp: danh mục 2022 hoặc danh mục sau sắp xếp 2025", "`2022|2025` the file's format: the 2022 catalogue or the reorganised 2025 one"))
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	parse := map[string]func(r *os.File) ([]schema.AdminUnit, error){
		"2022": func(r *os.File) ([]schema.AdminUnit, error) { return schema.ParseUnits2022(r) },
		"2025": func(r *os.File) ([]schema.AdminUnit, error) { return schema.ParseUnits2025(r) },
	}[*format]
	if parse == nil {
		return fmt.Errorf(e.msg("--format %q không hợp lệ: chọn 2022 (danh mục 2022) hoặc 2025 (danh mục sau sắp xếp 2025)", "--format %q is invalid: pick 2022 (the 2022 catalogue) or 2025 (the reorganised 2025 one)"), *format)
	}
	name, err := e.one(fs, pos, *byFlag, e.msg("một tệp CSV", "CSV file"))
	if err != nil {
		return err
	}
	file := &name
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	units, err := parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	review, err := s.Admin().ImportUnitsReviewed(ctx, units)
	if err != nil {
		return err
	}
	counts := map[schema.Level]int{}
	for _, u := range units {
		counts[u.Level]++
	}
	if e.json {
		return e.printJSON(counts)
	}
	e.printf("Đã nạp %d đơn vị (%d tỉnh, %d huyện, %d xã/phường) từ %s.\n", "Imported %d units (%d provinces, %d districts, %d communes) from %s.\n",
		len(units), counts[schema.LevelProvince], counts[schema.LevelDistrict], counts[schema.LevelCommune], *file)
	printUnitReview(e, review, unitNames(ctx, s)) // user.go
	return nil
}
