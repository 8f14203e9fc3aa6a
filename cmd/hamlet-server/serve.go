package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hamlet-vn/hamlet/server"
)

func init() {
	register(command{name: "serve", vi: "chạy máy chủ đồng bộ", en: "run the sync server", run: runServe})
}

type serveFlags struct {
	addr, cert, key, sync string
	skew                  time.Duration
}

func (e *env) serveFlagSet(name string, sf *serveFlags) *flag.FlagSet {
	fs := e.flags(name)
	fs.StringVar(&sf.addr, "addr", getenv("HAMLET_ADDR", ":8750"), e.msg("địa chỉ lắng nghe (HAMLET_ADDR)", "listen address (HAMLET_ADDR)"))
	fs.StringVar(&sf.cert, "tls-cert", getenv("HAMLET_TLS_CERT", ""), e.msg("tệp chứng chỉ TLS (HAMLET_TLS_CERT)", "TLS certificate file (HAMLET_TLS_CERT)"))
	fs.StringVar(&sf.key, "tls-key", getenv("HAMLET_TLS_KEY", ""), e.msg("tệp khóa TLS (HAMLET_TLS_KEY)", "TLS key file (HAMLET_TLS_KEY)"))
	fs.StringVar(&sf.sync, "synchronous", getenv("HAMLET_SYNCHRONOUS", "FULL"), "SQLite synchronous: FULL|NORMAL (HAMLET_SYNCHRONOUS)")
	fs.DurationVar(&sf.skew, "max-skew", getenvDuration("HAMLET_MAX_SKEW", 5*time.Minute), e.msg("độ lệch đồng hồ tối đa (HAMLET_MAX_SKEW)", "maximum clock skew (HAMLET_MAX_SKEW)"))
	return fs
}

func runServe(ctx context.Context, e *env, args []string) error {
	var sf serveFlags
	fs := e.serveFlagSet("serve", &sf)
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serve(ctx, e, sf, nil)
}

// serve runs until ctx ends (SIGINT/SIGTERM), then shuts down gracefully.
// ready, if set, is called with the bound address once listening.
func serve(ctx context.Context, e *env, sf serveFlags, ready func(addr string, s *server.Server)) error {
	cfg := server.Config{DataDir: e.dataDir, Addr: sf.addr, Logger: e.logger(), MaxSkew: sf.skew,
		TLSCert: sf.cert, TLSKey: sf.key, Synchronous: sf.sync}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return errors.New(e.msg("cần cả --tls-cert và --tls-key", "--tls-cert and --tls-key go together"))
	}
	s, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.Close()
		return fmt.Errorf("%s %s: %w", e.msg("không lắng nghe được trên", "cannot listen on"), cfg.Addr, err)
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- hs.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	addr := ln.Addr().String()
	lg := e.logger()
	lg.Info("hamlet-server listening", "addr", addr, "scheme", scheme, "data_dir", e.dataDir, "server_id", s.ID().String())
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
