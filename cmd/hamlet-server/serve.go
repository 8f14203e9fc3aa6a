package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/httpapp"
	"github.com/hamlet-vn/hamlet/workcal"
)

func init() {
	register(command{name: "serve", vi: "chạy máy chủ đồng bộ", en: "run the sync server", run: runServe})
}

type serveFlags struct {
	addr, cert, key, sync string
	skew                  time.Duration
	ping, pong            time.Duration
	calendar              string
	gc                    gcFlags
	minAgentSchema        int    // oldest agent data schema accepted (0: schema.MinSupportedVersion)
	agentUpdate           string // where volunteers get hamlet-agent, told to a too-old agent
	// ln is the address already bound (listen), by a command that must
	// know it can serve before it writes to the store (demo); serve binds
	// it itself otherwise.
	ln     net.Listener
	scheme string
}

// listen binds sf's address, with TLS when --tls-cert/--tls-key are set,
// before any store is opened: a start refused for the address or the
// certificate changes nothing in the data.
func (e *env) listen(sf serveFlags) (net.Listener, string, error) {
	ln, scheme, err := server.Listen(sf.addr, sf.cert, sf.key)
	if err == nil {
		return ln, scheme, nil
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, "", fmt.Errorf("%s %s: %s", e.msg("không lắng nghe được trên", "cannot listen on"), sf.addr,
			e.msg("cổng này đã có chương trình khác dùng (có thể là một hamlet-server hay bản demo khác đang chạy): hãy dừng chương trình đó, hoặc chọn cổng khác bằng --addr",
				"another program already uses this port (maybe another hamlet-server or demo): stop it, or choose another port with --addr"))
	}
	return nil, "", fmt.Errorf("%s %s: %w", e.msg("không lắng nghe được trên", "cannot listen on"), sf.addr, err)
}

func (e *env) serveFlagSet(name string, sf *serveFlags) *flag.FlagSet {
	fs := e.flags(name)
	fs.StringVar(&sf.addr, "addr", getenv("HAMLET_ADDR", ":8750"), e.msg("`ĐỊA_CHỈ:CỔNG` địa chỉ lắng nghe (HAMLET_ADDR)", "`HOST:PORT` listen address (HAMLET_ADDR)"))
	fs.StringVar(&sf.cert, "tls-cert", getenv("HAMLET_TLS_CERT", ""), e.msg("tệp chứng chỉ TLS (HAMLET_TLS_CERT)", "TLS certificate file (HAMLET_TLS_CERT)"))
	fs.StringVar(&sf.key, "tls-key", getenv("HAMLET_TLS_KEY", ""), e.msg("tệp khóa TLS (HAMLET_TLS_KEY)", "TLS key file (HAMLET_TLS_KEY)"))
	fs.StringVar(&sf.sync, "synchronous", getenv("HAMLET_SYNCHRONOUS", "FULL"), e.msg("`FULL|NORMAL` mức ghi chắc chắn xuống đĩa của SQLite (HAMLET_SYNCHRONOUS)", "`FULL|NORMAL` SQLite's synchronous mode (HAMLET_SYNCHRONOUS)"))
	fs.StringVar(&sf.calendar, "calendar", getenv("HAMLET_CALENDAR", ""), e.msg("tệp lịch làm việc JSON (giờ hành chính) cho hạn xử lý phản ánh (mặc định: thứ Hai–thứ Sáu, 07:00–11:30 và 13:30–17:00; ngày lễ: xem hamlet-server calendar) (HAMLET_CALENDAR)",
		"working calendar JSON file (office hours) for field-report deadlines (default: Monday–Friday, 07:00–11:30 and 13:30–17:00; holidays: see hamlet-server calendar) (HAMLET_CALENDAR)"))
	fs.Var(newDurationValue(&sf.ping, "ping-interval"), "ping-interval", e.msg("chu kỳ ping giữ kết nối (HAMLET_PING_INTERVAL)", "keep-alive ping interval (HAMLET_PING_INTERVAL)"))
	fs.Var(newDurationValue(&sf.pong, "pong-wait"), "pong-wait", e.msg("ngắt máy không phản hồi sau (HAMLET_PONG_WAIT)", "drop a peer silent for (HAMLET_PONG_WAIT)"))
	fs.Var(newDurationValue(&sf.skew, "max-skew"), "max-skew", e.msg("độ lệch đồng hồ tối đa: thay đổi được đóng dấu thời gian vượt trước đồng hồ máy chủ hơn mức này sẽ được đóng dấu lại theo giờ máy chủ; thay đổi sau hơn mức này cộng 1 giây luôn thắng (HAMLET_MAX_SKEW)",
		"maximum clock skew: a change stamped further ahead of the server's clock is restamped with the server's time; an edit made more than this plus 1 s later always wins (HAMLET_MAX_SKEW)"))
	e.gcFlagSet(fs, &sf.gc)
	schemaFlags(e, fs, sf)
	return fs
}

func runServe(ctx context.Context, e *env, args []string) error {
	var sf serveFlags
	fs := e.serveFlagSet("serve", &sf)
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	if err := e.checkDurationEnv(); err != nil {
		return err
	}
	if err := e.checkDurations(fs); err != nil {
		return err
	}
	return serve(ctx, e, sf, nil)
}

// serve runs until ctx ends (SIGINT/SIGTERM), then shuts down gracefully.
// ready, if set, is called with the bound address once listening.
func serve(ctx context.Context, e *env, sf serveFlags, ready func(addr string, s *server.Server)) error {
	cfg := server.Config{Addr: sf.addr, Logger: e.logger(), MaxSkew: sf.skew,
		TLSCert: sf.cert, TLSKey: sf.key, PingInterval: sf.ping, PongWait: sf.pong}
	e.synchronous = sf.sync
	sf.gc.apply(&cfg)
	if err := sf.applySchema(e, &cfg); err != nil {
		return err
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return errors.New(e.msg("cần cả --tls-cert và --tls-key", "--tls-cert and --tls-key go together"))
	}
	if sf.calendar != "" {
		f, err := os.Open(sf.calendar)
		if err != nil {
			return err
		}
		cal, err := workcal.Parse(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s %s: %w", e.msg("lịch làm việc", "working calendar"), sf.calendar, err)
		}
		// The file's own holidays, if any, take precedence over the
		// embedded official schedules; the store's imports over both.
		cal.FillSchedules(workcal.OfficialSchedules()...)
		cfg.Calendar = cal
	}
	ln, scheme := sf.ln, sf.scheme
	if ln == nil {
		var err error
		if ln, scheme, err = e.listen(sf); err != nil {
			return err
		}
	}
	s, err := e.openStore(ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	hs := &http.Server{Handler: httpapp.Handler(s), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	addr := ln.Addr().String()
	lg := e.logger()
	lg.Info("hamlet-server listening", "addr", addr, "scheme", scheme, "data_dir", e.dataDir, "server_id", s.ID().String())
	s.WarmAnalytics() // so the first commune leader to open the dashboard does not wait for the province to load
	if ready != nil {
		ready(scheme+"://"+addr, s)
	}
	select {
	case <-ctx.Done():
		lg.Info("shutting down: finishing in-flight batches")
	case err := <-errc:
		s.Close()
		return fmt.Errorf("serve: %w", err)
	}
	// Sessions first (each finishes its batch and is told shutting_down),
	// then the listener and remaining HTTP requests.
	cerr := s.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	herr := hs.Shutdown(sctx)
	if cerr != nil {
		return cerr
	}
	if herr != nil && !errors.Is(herr, http.ErrServerClosed) {
		return herr
	}
	lg.Info("stopped")
	return nil
}
