package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hamlet-vn/hamlet/schema"
)

func init() {
	register(command{name: "units import", vi: "nạp danh mục đơn vị hành chính từ CSV (--file, --format 2022|2025)",
		en: "import admin units from CSV (--file, --format 2022|2025)", run: runUnitsImport})
}

func runUnitsImport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("units import")
	e.jsonFlag(fs)
	file := fs.String("file", "", e.msg("tệp CSV", "CSV file"))
	format := fs.String("format", "2025", "2022|2025")
	if err := fs.Parse(args); err != nil {
		return err
	}
	parse := map[string]func(r *os.File) ([]schema.AdminUnit, error){
		"2022": func(r *os.File) ([]schema.AdminUnit, error) { return schema.ParseUnits2022(r) },
		"2025": func(r *os.File) ([]schema.AdminUnit, error) { return schema.ParseUnits2025(r) },
	}[*format]
	if parse == nil {
		return errors.New(e.msg("--format phải là 2022 hoặc 2025", "--format must be 2022 or 2025"))
	}
	if *file == "" {
		return errors.New(e.msg("thiếu --file", "--file is required"))
	}
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
	printUnitReview(e, review) // user.go
	return nil
}
