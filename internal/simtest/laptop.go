package simtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
)

// laptop is a volunteer's laptop: a data folder with the replica's SQLite
// file, the device token, a clock of its own, and, while it runs, the
// agent process (the real agent.Replica) whose sessions are tasks.
type laptop struct {
	idx    int
	name   string
	team   int // index of the member's team
	member string
	dir    string // the data folder
	sch    *schema.Registry
	proc   *proc
	rep    *agent.Replica
	gen    int
	token  string
	// tokenDevice: the device token belongs to, as the server knows it by
	// the token (server/session.go authenticate); "" when not known (a
	// token saved by an enrollment that then failed). A fork's token is
	// its new device's (forkDevice). A backup restored
	// holds the enrollment of its day, not the token's (the token is kept
	// outside the data folder).
	tokenDevice string
	online      bool
	// the laptop's clock: true time plus offset, drifting by drift per
	// hour of true time since driftFrom.
	offset    time.Duration
	drift     time.Duration
	driftFrom time.Time
	// clockSet: the clock was set by hand (opClock) since the agent
	// started or completed a sync begun after it (checkClocks); clockSets
	// counts the settings.
	clockSet  bool
	clockSets int
	// the running sync: one-shot (Sync) or Watch, and how to stop Watch.
	session *task
	cancel  context.CancelFunc
	// backups: copies of the data folder taken earlier (restore one).
	backups  []string
	gone     bool // retired (its folder copied elsewhere and this one dropped)
	enrolled bool
	// relabel: the laptop's next Push reaches the server with every
	// change labelled with a hamlet its team covers (opStaleWrite).
	relabel string
}

const replicaFile = "replica.db"

func (l *laptop) now(s *Sim) time.Time {
	t := s.sch.now
	if l.drift != 0 {
		t = t.Add(time.Duration(float64(l.drift) * t.Sub(l.driftFrom).Hours()))
	}
	return t.Add(l.offset)
}

func (l *laptop) running() bool { return l.rep != nil && !l.gone }

// newLaptop enrolls a new laptop for a new member of team.
func (s *Sim) newLaptop(team int, sch *schema.Registry) (*laptop, error) {
	l := &laptop{idx: len(s.laptops), team: team, sch: sch, online: true}
	l.name = fmt.Sprintf("L%d", l.idx+1)
	l.dir = s.dataPath(l.name)
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return nil, err
	}
	s.laptops = append(s.laptops, l)
	if err := s.startLaptop(l); err != nil {
		return nil, err
	}
	var code string
	var err error
	s.call(s.srv.proc, "issue code", func() { code, err = s.issueCode(l, true) })
	if err != nil {
		return nil, err
	}
	s.call(l.proc, "enroll "+l.name, func() { err = s.enroll(l, code) })
	if err != nil {
		return nil, fmt.Errorf("enroll %s: %w", l.name, err)
	}
	v := ""
	if sch.Version() < schema.Version {
		v = fmt.Sprintf(" (agent of schema %d)", sch.Version())
	}
	s.tr.printf("%s enrolled in team %d%s", l.name, team+1, v)
	return l, nil
}

// issueCode makes an enrollment code for the laptop's member (a new
// member first, when asked).
func (s *Sim) issueCode(l *laptop, newMember bool) (string, error) {
	a := s.srv.srv.Admin()
	if newMember || l.member == "" {
		m, err := a.AddMember(s.ctx, s.srv.teams[l.team], "Thành viên "+l.name, "member", "")
		if err != nil {
			return "", err
		}
		l.member = m.ID
	}
	code, _, err := a.IssueCode(s.ctx, l.member, 24*time.Hour)
	return code, err
}

func (s *Sim) enroll(l *laptop, code string) error {
	tok, e, err := l.rep.EnrollWith(s.ctx, serverURL, code, "máy "+l.name, func(t string) error { l.token, l.tokenDevice = t, ""; return nil })
	if err != nil {
		return err
	}
	l.token, l.tokenDevice, l.enrolled = tok, e.DeviceID, true
	return nil
}

// startLaptop starts the agent process on the laptop's folder.
func (s *Sim) startLaptop(l *laptop) error {
	l.gen++
	l.proc = &proc{name: fmt.Sprintf("%s#%d", l.name, l.gen)}
	l.clockSet = false // the clock restored at start forgets a stamp beyond it
	path := filepath.Join(l.dir, replicaFile)
	if err := s.placeReplica(l, path); err != nil {
		return err
	}
	rep, err := agent.OpenWith(s.ctx, path, agent.Options{
		Now:        func() time.Time { return l.now(s) },
		Schema:     l.sch,
		HTTPClient: s.httpClient(l),
		NewID:      s.newID,
	})
	if err != nil {
		return err
	}
	l.rep = rep
	return nil
}

// crash kills the agent process: committed transactions stay in the
// file (the agent writes with synchronous=FULL: a power cut keeps them
// too); its sessions end. halfOpen: the connection is left half-open (a
// closed lid, a power cut), so the server notices only at its deadline.
//
// The folder is left as a killed process leaves it: the replica file,
// its write-ahead log and shared-memory index as they were at the kill
// (frames of a transaction a parked task had not committed included),
// not as a clean close leaves them (the log checkpointed into the file
// and removed), so that the next start recovers the log as it must after
// a real kill.
func (l *laptop) crash(s *Sim, halfOpen bool) {
	if l.rep == nil {
		return
	}
	k, err := beginKill(filepath.Join(l.dir, replicaFile))
	if err != nil {
		s.fail("%s: read its files at the crash: %v", l.name, err)
	}
	_ = l.rep.Close()
	l.rep = nil
	s.sch.kill(l.proc)
	if err := k.end(); err != nil {
		s.fail("%s: leave its files as the crash found them: %v", l.name, err)
	}
	l.session, l.cancel = nil, nil
	for _, lk := range s.links {
		if lk.name != l.name || lk.ag.closed {
			continue
		}
		lk.ag.closed = true
		lk.toAg.flight = nil
		if halfOpen {
			lk.stall = true
		} else {
			lk.toSrv.closed = true
		}
	}
}

// syncOptions are the laptop's sync options: small batches and pages, so
// that a few rows make many frames.
func (s *Sim) syncOptions(l *laptop) agent.SyncOptions {
	rep := l.rep
	return agent.SyncOptions{
		BatchSize:     25, // a new row arrives in one push: every row has fewer fields
		Window:        2,
		PullLimit:     5,
		SnapshotLimit: s.snapshotRows(),
		BulkCloneRows: bulkCloneRows(l),
		IOTimeout:     30 * time.Second,
		MinBackoff:    time.Second,
		MaxBackoff:    time.Minute,
		PollInterval:  3 * time.Second,
		Frames:        s.frames(l),
		NoPhotos:      true, // photos travel over HTTP beside the session: not simulated yet
		Sched:         s.sch,
		SaveToken:     func(t string) error { l.token, l.tokenDevice = t, s.forkDevice(rep); return nil },
	}
}

// forkDevice is the device whose token a fork of rep's folder saves: the
// fork's, which its enrollment names from the fork's commit
// (agent/fork.go), read outside any transaction of the sync that saves
// it. Left as the folder's first, a session on the fork's token after the
// first device's revocation counted as a revoked device's (wide seed
// 8600453: a copy forked, and the operator revoked another copy's device,
// the folder's own).
func (s *Sim) forkDevice(rep *agent.Replica) string {
	e, err := rep.Enrollment(s.ctx)
	if err != nil || e == nil {
		return ""
	}
	return e.DeviceID
}

// snapshotRows is how many rows a laptop asks for a chunk: 3, or 6 with
// Config.Budget, for the server's field budget to cut them.
func (s *Sim) snapshotRows() uint32 {
	if s.cfg.Budget {
		return 6
	}
	return 3
}

// bulkCloneRows has every other laptop load its clones in bulk (the
// indexes dropped and built again), which the agent does only for large
// snapshots: the simulation's are a few rows.
func bulkCloneRows(l *laptop) uint64 {
	if l.idx%2 == 1 {
		return 1
	}
	return 0
}

// startSync starts a one-shot sync (watch false) or Watch on the laptop.
func (s *Sim) startSync(l *laptop, watch bool) {
	if l.session != nil || !l.running() || !l.enrolled {
		return
	}
	rep, opts := l.rep, s.syncOptions(l)
	if watch {
		ctx, cancel := context.WithCancel(s.ctx)
		l.cancel = cancel
		var t *task
		t = s.sch.spawn(l.proc, l.name+" watch", func() {
			err := rep.Watch(ctx, serverURL, l.token, opts)
			s.tr.printf("%s watch ends: %s", l.name, errText(err))
			if l.session == t {
				l.session, l.cancel = nil, nil
			}
		})
		l.session = t
		s.tr.printf("%s watch starts", l.name)
		return
	}
	var t *task
	sets := l.clockSets
	t = s.sch.spawn(l.proc, l.name+" sync", func() {
		sum, err := rep.Sync(s.ctx, serverURL, l.token, opts)
		if err == nil && l.clockSets == sets && l.rep == rep {
			l.clockSet = false // measured since the clock was set
		}
		s.tr.printf("%s sync ends: pushed %d pulled %d cloned %d rejected %d: %s", l.name, sum.Pushed, sum.Pulled, sum.Cloned, sum.Rejected, errText(err))
		s.model.synced(l, sum, err)
		if l.session == t {
			l.session = nil
		}
	})
	l.session = t
	s.tr.printf("%s sync starts", l.name)
}

// crashFiles are the files SQLite keeps for the database in path.
func crashFiles(path string) []string { return []string{path, path + "-wal", path + "-shm"} }

// A kill leaves a database's files as they are. Closing its connections
// instead would have the last one copy the write-ahead log into the file
// and remove it, unless another connection still has the file open: a
// connection that closes then is not the last, and leaves the files
// alone. So a kill opens the file read-only and reads its header (in WAL
// mode a connection holds its shared lock on the file from its first read
// to its close) before the process's own connections close, and closes it
// after them: read-only, it cannot take the exclusive lock a checkpoint
// needs, and leaves the files alone too. The -shm's read marks are the
// one difference from a real kill's files: the next connection to open
// the file, alone, rebuilds the index from the log anyway
// (TestKillLeavesTheFilesAsTheyWere,
// TestKillLeavesAnIndexTheNextOpenRebuilds). Where the file cannot be
// opened so, or has no log for the hold to leave alone, the kill copies
// its files before the close and puts them back after (slower: every
// byte read and written twice). So does the kill of a process whose
// close checkpoints the log itself (the server's store folds it in
// before it closes: copiedKill).
type kill struct {
	path  string
	hold  *sql.DB
	image [][]byte
}

// beginKill is the first half of a kill of the process that has the
// database in path open; end, after its connections closed, leaves the
// files as they were when it began.
func beginKill(path string) (*kill, error) {
	k := &kill{path: path}
	if _, err := os.Stat(path + "-wal"); err != nil {
		// No log (the process's last connection had closed, and removed
		// it): a read-only connection would create it and the -shm,
		// which a real kill leaves absent (TestKillWithNoLogLeavesNone).
		return copiedKill(path)
	}
	if hold, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro"); err == nil {
		hold.SetMaxOpenConns(1)
		var n int
		if err := hold.QueryRow(`PRAGMA schema_version`).Scan(&n); err == nil {
			k.hold = hold
			return k, nil
		}
		_ = hold.Close()
	}
	return copiedKill(path)
}

// copiedKill is beginKill by a copy of the files.
func copiedKill(path string) (*kill, error) {
	image, err := readCrashImage(path)
	return &kill{path: path, image: image}, err
}

func (k *kill) end() error {
	if k.hold != nil {
		return k.hold.Close()
	}
	if k.image == nil {
		return nil
	}
	return writeCrashImage(k.path, k.image)
}

// readCrashImage reads the files of the database in path as they are (nil
// for one that is not there).
func readCrashImage(path string) ([][]byte, error) {
	image := make([][]byte, 3)
	for i, name := range crashFiles(path) {
		b, err := os.ReadFile(name)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		image[i] = b
	}
	return image, nil
}

// writeCrashImage puts the database's files back as readCrashImage read
// them, and removes those that were not there.
func writeCrashImage(path string, image [][]byte) error {
	for i, name := range crashFiles(path) {
		if image[i] == nil {
			if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			continue
		}
		if err := os.WriteFile(name, image[i], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// copyFolder copies the laptop's data folder (the replica file and its
// write-ahead log, as they are between two steps: every transaction is
// committed or not begun) to dst.
func copyFolder(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, name := range []string{replicaFile, replicaFile + "-wal"} {
		if err := copyFile(filepath.Join(src, name), filepath.Join(dst, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// deviceID is the laptop's device as its replica holds it ("" before
// enrollment or while the agent is stopped).
func (s *Sim) deviceID(l *laptop) string {
	if l.rep == nil {
		return ""
	}
	e, err := l.rep.Enrollment(s.ctx)
	if err != nil || e == nil {
		return ""
	}
	return e.DeviceID
}
