package main

import (
	"context"
	"flag"
	"time"

	"github.com/hamlet-vn/hamlet/server"
)

func init() {
	register(command{name: "gc", vi: "dọn các bản ghi đã xóa mà mọi thiết bị đã nhận, và ảnh không phản ánh nào còn dùng (--silent-after, --truncate-log, --photo-grace)",
		en: "collect tombstones every device has acknowledged, and photos no report names (--silent-after, --truncate-log, --photo-grace)", run: runGC})
}

// gcFlags are the collection settings serve and gc share.
type gcFlags struct {
	silentAfter *age
	truncate    bool
	photoGrace  *age
}

func (e *env) gcFlagSet(fs *flag.FlagSet, g *gcFlags) {
	def := server.DefaultSilentAfter
	if v := getenv("HAMLET_SILENT_AFTER", ""); v != "" {
		if d, err := parseAge(v); err == nil {
			def = d
		}
	}
	g.silentAfter = ageFlag(fs, "silent-after", def, e.msg(
		"thiết bị im lặng lâu hơn (vd. 180d) không còn giữ việc dọn dẹp; khi quay lại nó gửi thay đổi rồi tải lại toàn bộ; 0 = không bao giờ (HAMLET_SILENT_AFTER)",
		"a device silent longer than this (e.g. 180d) no longer holds collection back; when it returns it pushes, then re-clones; 0 = never (HAMLET_SILENT_AFTER)"))
	// On by default since issue 17's simulation passed 100,000 schedules
	// with it on; =false keeps the whole log, for a field where agents of
	// a release that cannot clone by snapshot are still in use.
	fs.BoolVar(&g.truncate, "truncate-log", getenv("HAMLET_TRUNCATE_LOG", "1") != "0", e.msg(
		"xóa cả nhật ký đồng bộ dưới mốc mọi thiết bị đã nhận (máy mới tải bản chụp); mặc định bật, --truncate-log=false để giữ cả nhật ký (HAMLET_TRUNCATE_LOG=0)",
		"drop the whole sync log below what every device holds (new replicas clone the snapshot); on by default, --truncate-log=false keeps the whole log (HAMLET_TRUNCATE_LOG=0)"))
	grace := server.DefaultPhotoGrace
	if v := getenv("HAMLET_PHOTO_GRACE", ""); v != "" {
		if d, err := parseAge(v); err == nil {
			grace = d
		}
	}
	g.photoGrace = ageFlag(fs, "photo-grace", grace, e.msg(
		"ảnh không còn phản ánh nào dùng được giữ thêm chừng này (vd. 7d) rồi mới xóa (HAMLET_PHOTO_GRACE)",
		"a photo no report names any more is kept this long (e.g. 7d) before it is removed (HAMLET_PHOTO_GRACE)"))
}

func (g *gcFlags) apply(cfg *server.Config) {
	cfg.SilentAfter = g.silentAfter.d
	if cfg.SilentAfter == 0 {
		cfg.SilentAfter = -1 // 0 on the command line: never
	}
	cfg.TruncateLog = g.truncate
	cfg.PhotoGrace = max(g.photoGrace.d, time.Millisecond) // 0: at the next collection after the one that finds it unnamed
}

func runGC(ctx context.Context, e *env, args []string) error {
	fs := e.flags("gc")
	e.jsonFlag(fs)
	var g gcFlags
	e.gcFlagSet(fs, &g)
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	cfg := e.adminConfig()
	g.apply(&cfg)
	s, err := e.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	st, err := s.Admin().GC(ctx)
	if err != nil {
		return err
	}
	ps, err := s.CollectPhotos(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(struct {
			server.GCStats
			Photos server.PhotoGCStats `json:"photos"`
		}{st, ps})
	}
	e.printf("Đã dọn %d bản ghi, %d mục nhật ký (%d mục bị thay thế, %d mục dưới mốc).\n", "Collected %d rows, %d log entries (%d superseded, %d below the floor).\n",
		st.Rows, st.Entries, st.Superseded, st.Truncated)
	e.printf("Ảnh: xóa %d ảnh không còn phản ánh nào dùng (và %d lượt tải dở), %d ảnh mới không còn được dùng sẽ giữ thêm một thời gian, %d ảnh đang dùng.\n",
		"Photos: removed %d no report names (and %d unfinished uploads), %d newly unnamed kept for the grace period, %d in use.\n",
		ps.Collected, ps.Uploads, ps.Marked, ps.Kept)
	return nil
}
