package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/archive"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Store is the port every store implements: everything the server keeps,
// as the parts each of the server's consumers declares (where it uses
// them). It persists what the server decided and answers reads: the
// decisions are the server's (syncproto.Resolve in apply.go, collection in
// collect.go, enrollment in enrollment.go), written once over the
// primitives of Tx. server/sqlitestore and server/pgstore implement it,
// and both pass server/storetest.Run. cmd/hamlet-server chooses one.
type Store interface {
	SyncStore      // the committer, the hub, the sessions (SessionStore)
	AuthStore      // enroll.go, session.go
	AdminStore     // admin.go and the operator's commands
	BulkAdminStore // workflow_import.go
	DeviceStore    // devices.go
	UserStore      // users.go
	HolidayStore   // holidays.go
	SnapshotStore  // snapshot.go
	CommitFeed     // hub.go
	ReadModelStore // server/api, server/dashboard
	ConflictStore  // conflicts_archive.go
	HealthStore    // health.go
	BlobStore      // photos.go
	Close() error
}

// ConflictStore is what archiving the conflict log needs.
type ConflictStore interface {
	// ConflictsBefore calls fn for every conflict-log entry recorded
	// before `before`, by id (conflicts_archive.go).
	ConflictsBefore(ctx context.Context, before time.Time, fn func(archive.Conflict) error) error
	// DeleteConflicts removes the entries recorded before `before` whose
	// id is at most upTo (those an archive holds) and says how many.
	DeleteConflicts(ctx context.Context, before time.Time, upTo int64) (int, error)
}

// HealthStore is what /healthz asks of a store.
type HealthStore interface {
	// ProbeWrite commits a write to the store's own health row, so
	// /healthz can tell a store that cannot write (a full disk, a
	// read-only database) from one that can. With size > 0 the write
	// first needs about size bytes of new space (removed again in the same
	// transaction): the check that a store whose writes failed for lack of
	// space has room again.
	ProbeWrite(ctx context.Context, size int) error
}

// SyncStore is what syncing needs: the committer's transactions (Updater),
// the sessions' reads (SessionStore), the hub's log reads, device
// activity, and the collection horizon each pull announces.
type SyncStore interface {
	Updater
	// PushedSeq is the highest origin sequence of r the store holds.
	PushedSeq(ctx context.Context, r syncproto.ReplicaID) (uint64, error)
	// Head is the highest server_seq in the log.
	Head(ctx context.Context) (uint64, error)
	// ReadLog returns a page of the log (see LogQuery).
	ReadLog(ctx context.Context, q LogQuery) (LogPage, error)
	// Touch records devices' last contact and acknowledged cursors.
	Touch(ctx context.Context, acts []DeviceActivity) error
	// Horizon is the server_seq at or below which every active device
	// covering any of scopes holds the log durably (0: none known); a
	// device that never said Hello and holds no cursor is not counted
	// (GCTx.MinCursors).
	Horizon(ctx context.Context, scopes []string, silentBefore time.Time) (uint64, error)
}

// Tx is one write transaction of a store: loads and saves, no decisions.
// Each part of the server uses the part it decides with.
type Tx interface {
	SyncTx
	DigestTx // fork.go
	GCTx     // collect.go
	DeviceTx // enrollment.go
}

// SyncTx is the part of a write transaction that applies pushes.
type SyncTx interface {
	OriginSeq(r syncproto.ReplicaID) (uint64, error)
	SetOriginSeq(r syncproto.ReplicaID, seq uint64) error
	// Row is a synced row's server-side state with the current version of
	// every field; ok is false for a new row.
	Row(table string, id syncproto.RowID) (st RowState, ok bool, err error)
	// PutRow saves a row's state and field versions, whole.
	PutRow(table string, id syncproto.RowID, st RowState) error
	// Append adds an entry to the log and sets e.Seq.
	Append(e *LogEntry) error
	// Children lists the rows whose parent is the given row.
	Children(parent syncproto.RowID) ([]RowRef, error)
	AddConflict(c syncproto.Conflict, at time.Time) error
	AddRefused(r Refused) error
	// Refusals returns the stored refusals of origin's changes with a
	// sequence in [from, to], by sequence, leaving out the refusals of
	// pushes that named origin's changes from another replica (code
	// unauthorized: they are not origin's, and one stored later would hide
	// origin's own for the same sequence). A change pushed again (its Ack
	// was lost) is answered with its refusal again, never as a duplicate.
	Refusals(origin syncproto.ReplicaID, from, to uint64) (map[uint64]Refused, error)
	// ForkParents lists the replicas r continues as a fork of (POST
	// /v1/fork): the replica of the device whose folder was copied, and
	// its own parents, transitively; r itself is left out.
	ForkParents(r syncproto.ReplicaID) ([]syncproto.ReplicaID, error)
	// Materialize writes the given field values into the row table named
	// table (schema.SQLiteMigrations), creating the row if needed.
	Materialize(table string, id syncproto.RowID, fields map[string]syncproto.Value) error
	// LoadRows is Row for many rows at once: the states of those that
	// exist. A batch loads all its rows with it before deciding anything.
	LoadRows(refs []RowRef) (map[RowRef]RowState, error)
	// SaveRows is PutRow and Materialize for many rows at once (a store
	// writes them with as few statements as it can).
	SaveRows(rows []RowSave) error
	// AddScopeMove records that a row moved between hamlets (scope.go).
	AddScopeMove(m ScopeMove) error
	// ScopeMoves lists a row's moves, oldest first.
	ScopeMoves(table string, id syncproto.RowID) ([]ScopeMove, error)
	// MovedAbove reports which of refs moved between hamlets with the
	// move's eviction logged above seq (apply.go, ownBack).
	MovedAbove(refs []RowRef, seq uint64) (map[RowRef]bool, error)
	// Collected reports which of refs name rows collection removed
	// (GCTx.DropTombstone keeps their ids): a push that would make one of
	// them again is refused (apply.go).
	Collected(refs []RowRef) (map[RowRef]bool, error)
	// TeamScopeLog lists the changes of a team's hamlets, oldest first.
	TeamScopeLog(team string) ([]TeamScopeChange, error)
}

// RowSave is one row's share of SaveRows.
type RowSave struct {
	Ref RowRef
	// State, when set, replaces the row's state (PutRow).
	State *RowState
	// Fields, when non-empty, are materialised (Materialize).
	Fields map[string]syncproto.Value
}

// RowState is what the server tracks per synced row beyond its fields.
type RowState struct {
	Scope   string
	Parent  syncproto.RowID // the household of a visit/tutoring record/field report; zero if none
	Deleted bool
	// TombSeq is the server_seq of the log entry that deleted the row.
	TombSeq uint64
	// Versions is the winning version of each field, by field name.
	Versions map[string]syncproto.Version
}

// RowRef names a row.
type RowRef struct {
	Table string
	Row   syncproto.RowID
}

// EntryKind is what a log entry is.
type EntryKind uint8

const (
	EntryChange   EntryKind = 0
	EntryEviction EntryKind = 1
)

// LogEntry is one entry of the server log. For an eviction, Change carries
// Table, Row and Scope (the scope the row left) and NewScope where it went.
// A change entry has a NewScope (its own scope) when a move logged it, the
// row's versions re-logged under the hamlet it moved to: such an entry goes
// to every device of that hamlet, its origin too, which may have dropped
// the row when it left its scope earlier (PROTOCOL §7.5).
type LogEntry struct {
	Seq      uint64
	Kind     EntryKind
	Change   syncproto.Change
	NewScope string
}

// LogQuery selects log entries with Seq > After whose scope is in Scopes and
// whose origin is not Exclude (evictions, and changes a move logged, are
// always included), at most Limit.
type LogQuery struct {
	After   uint64
	Scopes  []string
	Exclude syncproto.ReplicaID
	Limit   int
}

// DistinctScopes is ss without repeats, in first-seen order: a team's
// scopes as the stores and the hub's tail of the log query them.
func DistinctScopes(ss []string) []string {
	if len(ss) < 2 {
		return ss
	}
	seen := make(map[string]bool, len(ss)) // a province's staff holds a thousand hamlets
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// LogPage is the answer to a LogQuery. To is the last server_seq the page
// covers: every matching entry in (After, To] is in Entries. More is true
// when the page was cut at Limit.
type LogPage struct {
	Entries []LogEntry
	To      uint64
	More    bool
}

// Refused is a pushed change the server did not apply, kept with its reason.
type Refused struct {
	// Change is the refused change; Refusals fills only its Dot and Base.
	Change   syncproto.Change
	DeviceID string
	Code     syncproto.Code
	Reason   string
	At       time.Time
}

// DeviceActivity is a device's last contact; Cursor is its acknowledged pull
// cursor (nil: unchanged).
type DeviceActivity struct {
	DeviceID string
	At       time.Time
	Cursor   *uint64
}

// GCStats counts what GC removed.
type GCStats struct {
	Rows       int // tombstoned rows dropped
	Entries    int // log entries dropped
	Superseded int // of which superseded entries compacted
	Truncated  int // of which entries below the scope's floor (GCOptions.Truncate)
	Floors     int // scopes whose log floor rose
	Digests    int // change digests older than DigestWindow dropped (fork.go)
	Bases      int // base dots the horizon passed, cleared from versions (collect.go)
}

// ReadModelStore is what the dashboard reads of a store: the read model's
// source, and the conflict log's latest entries.
type ReadModelStore interface {
	// AnalyticsSource is the read model's source over the store's tables
	// (one per store: the read model keeps no connection of its own).
	AnalyticsSource() analytics.Source
	// ConflictCounts is the number of conflict-log entries per hamlet.
	ConflictCounts(ctx context.Context) (map[string]int, error)
	// LatestConflicts lists the newest n entries of the conflict log,
	// newest first.
	LatestConflicts(ctx context.Context, n int) ([]ConflictEntry, error)
}

// AuthStore is what enrollment and authentication need besides the
// enrollment transaction (Enroll, enrollment.go).
type AuthStore interface {
	PutCode(ctx context.Context, c EnrollCode) error
	// DeviceByToken finds the device with that token hash (ErrNotFound).
	DeviceByToken(ctx context.Context, tokenHash []byte) (Device, error)
	// Scope is the hamlets of a member's team.
	Scope(ctx context.Context, memberID string) ([]string, error)
}

// AdminStore is what the operator's commands need.
type AdminStore interface {
	ImportUnits(ctx context.Context, units []schema.AdminUnit) error
	// ImportUnitsMarking imports units as ImportUnits does and, in the
	// same transaction, marks the enabled users bound to changed as
	// awaiting confirmation of their unit (User.UnitChangedOn, the
	// import's retirement date, if not set yet): an import that fails
	// marks no one.
	ImportUnitsMarking(ctx context.Context, units []schema.AdminUnit, changed []string) error
	Units(ctx context.Context, level schema.Level, parent string) ([]schema.AdminUnit, error)
	// UnitNames are the names of the units of codes (a code no unit has
	// is left out): what a team's scope shows, without the unit tree.
	UnitNames(ctx context.Context, codes []string) (map[string]string, error)
	CreateTeam(ctx context.Context, t Team) error
	Teams(ctx context.Context) ([]Team, error)
	AddMember(ctx context.Context, m Member) error
	Member(ctx context.Context, id string) (Member, error)
	Devices(ctx context.Context) ([]Device, error)
	RevokeDevice(ctx context.Context, id string, at time.Time) error
	ServerID(ctx context.Context) (syncproto.ReplicaID, error)
	// LogEpoch is the epoch of the log this store holds (Welcome.LogEpoch):
	// 0 until a restore; when the store carries the mark a backup or
	// MarkRestored left, a new random epoch replaces it, once.
	LogEpoch(ctx context.Context) (uint64, error)
	// MarkRestored marks the store as a restored copy: its next LogEpoch
	// takes a new epoch.
	MarkRestored(ctx context.Context) error
	Backup(ctx context.Context, path string) error
	// ChangeTeamHamlet adds c.Hamlet to c.Team's hamlets (c.Added) or
	// removes it, and records c in the team's scope log, in one
	// transaction. changed is false (and nothing is recorded) when the
	// team already had (or lacked) the hamlet; ErrNotFound: no such team.
	ChangeTeamHamlet(ctx context.Context, c TeamScopeChange) (changed bool, err error)
}

// Team is a hamlet team and the hamlets it covers.
type Team struct {
	ID          string   `json:"id"`
	CommuneCode string   `json:"commune_code"`
	Name        string   `json:"name"`
	Hamlets     []string `json:"hamlets"`
}

// Member belongs to a team. Name and Phone are personal data: never log them.
type Member struct {
	ID     string `json:"id"`
	TeamID string `json:"team_id"`
	Name   string `json:"name"`
	Role   string `json:"role"`
	Phone  string `json:"phone,omitempty"`
}

// EnrollCode is a one-time enrollment code, stored as a hash.
type EnrollCode struct {
	Hash     []byte
	MemberID string
	Expires  time.Time
	Created  time.Time
}

// Device is an enrolled laptop.
type Device struct {
	ID        string              `json:"id"`
	MemberID  string              `json:"member_id"`
	TeamID    string              `json:"team_id"`
	Replica   syncproto.ReplicaID `json:"replica_id"`
	Label     string              `json:"label"`
	Client    string              `json:"client"`
	TokenHash []byte              `json:"-"`
	Created   time.Time           `json:"created"`
	Revoked   *time.Time          `json:"revoked,omitempty"`
	LastSeen  *time.Time          `json:"last_seen,omitempty"`
	Cursor    uint64              `json:"cursor,string"` // 64-bit: a string in JSON, as JavaScript rounds beyond 2^53
	// Replaces is the device this one replaced: the same replica enrolled
	// again with a new code (devices.go). Empty for a first enrollment.
	Replaces string `json:"replaces,omitempty"`
}

// Enrollment is what Enroll returns besides the stored device.
type Enrollment struct {
	Device Device
	Member Member
	Team   Team
	// Again: the code was used before by this replica (an enroll cut off
	// before the laptop kept its token); Device is that device, its token
	// replaced by the new one (enrollment.go).
	Again bool
}

// Store errors. Stores return these (wrapped) so callers can map them.
var (
	ErrNotFound    = errors.New("not found")
	ErrCodeInvalid = errors.New("enrollment code unknown")
	ErrCodeExpired = errors.New("enrollment code expired")
	ErrCodeUsed    = errors.New("enrollment code already used")
	ErrConflict    = errors.New("already exists")
	// ErrBusy means the store had no free connection in time: the request
	// may succeed unchanged after a pause (the agent is told "busy").
	ErrBusy = errors.New("store busy")
	// ErrStoreFull and ErrStoreReadOnly say why a write failed, in the
	// store's own terms (a full disk or database, a read-only database),
	// so /healthz can tell the operator without the error's text.
	ErrStoreFull     = errors.New("the disk or the database is full")
	ErrStoreReadOnly = errors.New("the database is read-only")
)

// storeError is the protocol error for a store failure: busy when the
// store had no free connection, unavailable otherwise; both retryable.
func storeError(msg string, err error) *syncproto.Error {
	if errors.Is(err, ErrBusy) {
		return &syncproto.Error{Code: syncproto.CodeBusy, Msg: "the server is busy; retry after a pause", Err: err}
	}
	return &syncproto.Error{Code: syncproto.CodeUnavailable, Msg: msg, Err: err}
}

// RefusedBase is a refused change's base as a store keeps it: NULL columns
// (no base, or refused before the store kept bases) are the zero Dot.
func RefusedBase(origin []byte, seq *int64) (syncproto.Dot, error) {
	if origin == nil || seq == nil {
		return syncproto.Dot{}, nil
	}
	id, err := uuid.FromBytes(origin)
	if err != nil {
		return syncproto.Dot{}, fmt.Errorf("refused change's base origin: %w", err)
	}
	return syncproto.Dot{Replica: id, Seq: uint64(*seq)}, nil
}
