package loader

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Options tunes Load.
type Options struct {
	// Reorganise applies the 2025 merger after the rows are in.
	Reorganise bool
	// BatchSize is the number of changes per push (default 20,000).
	BatchSize int
	// Progress, if set, is called after every batch.
	Progress func(changes int, elapsed time.Duration)
}

// Result says what Load did and how fast.
type Result struct {
	Structure *camau.Structure
	Counts    camau.Counts
	Replica   syncproto.ReplicaID // the generator's replica
	Changes   int                 // synced changes applied
	Head      uint64              // the server's log head afterwards
	Reorg     *server.ReorgStats
	// FirstCommune is the first commune with a team (for examples).
	FirstCommune string
	Elapsed      time.Duration // everything
	RowsTime     time.Duration // the rows through the push path
}

// ChangesPerSecond is the load speed through the push path.
func (r *Result) ChangesPerSecond() float64 {
	if r.RowsTime <= 0 {
		return 0
	}
	return float64(r.Changes) / r.RowsTime.Seconds()
}

// GeneratorReplica is the replica id a scale's rows are written by:
// derived from the seed, so a province loaded twice has one author.
func GeneratorReplica(s camau.Scale) syncproto.ReplicaID {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], s.Seed)
	return uuid.NewSHA1(uuid.MustParse("6f1d3c52-2b9e-4c1a-9a57-68616d6c6574"), append([]byte("camau-generator:"), b[:]...))
}

// Load builds the scale's structure and streams its rows into srv, whose
// database must not hold teams yet.
func Load(ctx context.Context, srv *server.Server, s camau.Scale, o Options) (*Result, error) {
	start := time.Now()
	if o.BatchSize <= 0 {
		o.BatchSize = 20_000
	}
	a := srv.Admin()
	if teams, err := a.Teams(ctx); err != nil {
		return nil, err
	} else if len(teams) > 0 {
		return nil, errors.New("load province: the server already has teams; load into a fresh data directory")
	}
	st, err := camau.BuildStructure(s)
	if err != nil {
		return nil, err
	}
	if err := a.ImportUnits(ctx, st.Units2022); err != nil {
		return nil, fmt.Errorf("load province: 2022 units: %w", err)
	}
	if err := a.ImportUnits(ctx, st.Hamlets); err != nil {
		return nil, fmt.Errorf("load province: hamlets: %w", err)
	}
	var teams []server.Team
	var members []server.Member
	for _, t := range st.Teams {
		teams = append(teams, server.Team{ID: t.ID, CommuneCode: t.CommuneCode, Name: t.Name, Hamlets: t.HamletCodes})
		for _, m := range t.Members {
			members = append(members, server.Member{ID: m.ID, TeamID: m.TeamID, Name: m.Name, Role: string(m.Role), Phone: m.Phone})
		}
	}
	if err := a.ImportTeams(ctx, teams, members); err != nil {
		return nil, fmt.Errorf("load province: teams: %w", err)
	}
	res := &Result{Structure: st, Replica: GeneratorReplica(s)}
	if len(st.Teams) > 0 {
		res.FirstCommune = st.Teams[0].CommuneCode
	}
	seq, err := a.PushedSeq(ctx, res.Replica)
	if err != nil {
		return nil, err
	}
	rowsStart := time.Now()
	sk := &sink{ctx: ctx, a: a, replica: res.Replica, seq: seq, clock: syncproto.NewClock(a.Now, 0), batch: o.BatchSize,
		progress: o.Progress, start: rowsStart}
	sk.startApplier()
	res.Counts, err = camau.Generate(s, st, sk)
	if ferr := sk.finish(); err == nil {
		err = ferr
	}
	if err != nil {
		return nil, fmt.Errorf("load province: rows: %w", err)
	}
	res.RowsTime = time.Since(rowsStart)
	res.Changes, res.Head = sk.applied, sk.head
	if o.Reorganise {
		rs, err := a.ApplyReorganisation(ctx, st.Units2025, st.Hamlet2025)
		if err != nil {
			return nil, err
		}
		res.Reorg = &rs
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// sink turns generated rows into changes of the generator replica and
// applies them in batches; one batch is applied while the next is built.
type sink struct {
	ctx      context.Context
	a        *server.Admin
	replica  syncproto.ReplicaID
	seq      uint64
	clock    *syncproto.Clock
	batch    int
	progress func(int, time.Duration)
	start    time.Time

	cur     []syncproto.Change
	queue   chan []syncproto.Change
	done    chan struct{}
	errMu   sync.Mutex
	err     error // set by the applier
	applied int
	head    uint64
}

func (k *sink) startApplier() {
	k.queue = make(chan []syncproto.Change, 1)
	k.done = make(chan struct{})
	go func() {
		defer close(k.done)
		for b := range k.queue {
			if k.getErr() != nil {
				continue
			}
			st, err := k.a.ApplyChanges(k.ctx, k.replica, b)
			if err == nil && st.Refused > 0 {
				err = fmt.Errorf("%d changes refused, first: %s", st.Refused, st.FirstRefusal)
			}
			if err != nil {
				k.errMu.Lock()
				k.err = err
				k.errMu.Unlock()
				continue
			}
			k.applied += st.Applied
			k.head = st.Head
			if k.progress != nil {
				k.progress(k.applied, time.Since(k.start))
			}
		}
	}()
}

func (k *sink) finish() error {
	if len(k.cur) > 0 {
		k.queue <- k.cur
		k.cur = nil
	}
	close(k.queue)
	<-k.done
	return k.getErr()
}

func (k *sink) getErr() error {
	k.errMu.Lock()
	defer k.errMu.Unlock()
	return k.err
}

func (k *sink) row(table, id string, row map[string]any) error {
	rid, err := uuid.Parse(id)
	if err != nil {
		return err
	}
	scope, _ := row[schema.ScopeField].(string)
	keys := make([]string, 0, len(row))
	for f, v := range row {
		// A volunteer's form leaves unset what it does not know: no empty
		// strings, and no "false" flags except active (absent means active).
		if v == nil || v == "" || (v == false && f != "active") {
			continue
		}
		keys = append(keys, f)
	}
	slices.Sort(keys)
	for _, f := range keys {
		v, err := syncproto.ValueOf(row[f])
		if err != nil {
			return fmt.Errorf("%s %s field %s: %w", table, id, f, err)
		}
		k.seq++
		c := syncproto.Change{Table: table, Row: rid, Field: f, Value: v, Scope: scope}
		syncproto.Stamp(&c, k.clock, syncproto.Dot{Replica: k.replica, Seq: k.seq}, nil) // every field is new
		k.cur = append(k.cur, c)
	}
	if len(k.cur) >= k.batch {
		if err := k.getErr(); err != nil {
			return err
		}
		select {
		case k.queue <- k.cur:
		case <-k.ctx.Done():
			return k.ctx.Err()
		}
		k.cur = make([]syncproto.Change, 0, k.batch+32)
	}
	return nil
}

func (k *sink) Household(h schema.Household) error { return k.row("households", h.ID, h.Row()) }
func (k *sink) Visit(v schema.Visit) error         { return k.row("visits", v.ID, v.Row()) }
func (k *sink) Tutoring(t schema.TutoringRecord) error {
	return k.row("tutoring_records", t.ID, t.Row())
}
func (k *sink) Report(r schema.FieldReport) error { return k.row("field_reports", r.ID, r.Row()) }

// CachedDataDir returns a data directory holding the scale's province,
// loading it the first time into os.TempDir()/hamlet-camau-<key> (the key
// covers the scale and the reorganisation choice). Later calls, in this or
// another process, reuse it: loading the full province through the push
// path takes minutes. Callers must not write rows into it. open opens a
// server on a data directory (the loader chooses no store).
func CachedDataDir(ctx context.Context, s camau.Scale, reorganise bool, cfg server.Config,
	open func(ctx context.Context, dir string, cfg server.Config) (*server.Server, error)) (string, *Result, error) {
	key, _ := json.Marshal(struct {
		S camau.Scale
		R bool
		V int
	}{s, reorganise, schema.Version})
	sum := sha256.Sum256(key)
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("hamlet-camau-%x", sum[:6]))
	marker := filepath.Join(dir, "loaded.json")
	if b, err := os.ReadFile(marker); err == nil {
		var r Result
		if json.Unmarshal(b, &r) == nil {
			return dir, &r, nil
		}
	}
	tmp := dir + fmt.Sprintf(".tmp%d", os.Getpid())
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return "", nil, err
	}
	cfg.GCInterval = -1
	srv, err := open(ctx, tmp, cfg)
	if err != nil {
		return "", nil, err
	}
	res, err := Load(ctx, srv, s, Options{Reorganise: reorganise})
	if cerr := srv.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return "", nil, err
	}
	res.Structure = nil
	b, _ := json.Marshal(res)
	if err := os.WriteFile(filepath.Join(tmp, "loaded.json"), b, 0o644); err != nil {
		return "", nil, err
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", nil, err
	}
	return dir, res, nil
}
