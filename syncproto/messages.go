package syncproto

// ProtocolVersion is the wire protocol this package speaks. A peer with a
// different protocol version is refused with CodeVersionMismatch.
const ProtocolVersion = 1

// MsgType is the first element of every frame.
type MsgType uint8

const (
	MsgHello   MsgType = 1 // client → server: versions and replica id
	MsgWelcome MsgType = 2 // server → client: versions, time, scope, resume points
	MsgPush    MsgType = 3 // client → server: a batch of changes
	MsgAck     MsgType = 4 // server → client: per-change results of one push
	MsgPull    MsgType = 5 // client → server: send me what is after this cursor
	MsgChanges MsgType = 6 // server → client: one batch of a pull response
	MsgError   MsgType = 7 // either way: a protocol error; the sender closes after it if fatal
	MsgNotify  MsgType = 8 // server → client: the log grew past Cursor; pull when idle
)

func (t MsgType) String() string {
	switch t {
	case MsgHello:
		return "hello"
	case MsgWelcome:
		return "welcome"
	case MsgPush:
		return "push"
	case MsgAck:
		return "ack"
	case MsgPull:
		return "pull"
	case MsgChanges:
		return "changes"
	case MsgError:
		return "error"
	case MsgNotify:
		return "notify"
	case MsgSnapshotRequest:
		return "snapshot_request"
	case MsgSnapshotChunk:
		return "snapshot_chunk"
	}
	return "unknown"
}

// Message is any protocol message.
type Message interface{ Type() MsgType }

// Hello opens a session. The device token travels in the HTTP upgrade
// request, never here, so an unauthenticated client never gets a socket.
type Hello struct {
	Protocol uint16
	Schema   uint16
	Replica  ReplicaID
	// Client names the software and platform, e.g. "hamlet-agent/0.3.0 windows/amd64".
	Client string
	// SentAt is the client's uncorrected wall clock in Unix ms; the server
	// echoes it so the client can estimate its offset.
	SentAt int64
}

// Welcome answers Hello.
type Welcome struct {
	Protocol  uint16
	Schema    uint16
	MinSchema uint16
	Server    ReplicaID
	// ServerTime is the server's wall clock in Unix ms when it sent Welcome.
	ServerTime int64
	// EchoSentAt is Hello.SentAt, for offset estimation.
	EchoSentAt int64
	MaxSkewMs  int64
	// Scope lists the hamlet codes this device may read and write.
	Scope []string
	// PushedSeq is the highest origin sequence of this replica the server
	// holds durably: the client resumes pushing after it.
	PushedSeq uint64
	// Cursor is the head of the server's log when it sent Welcome.
	Cursor uint64
	// MaxFrame and MaxChanges are the limits the server enforces.
	MaxFrame   uint32
	MaxChanges uint32
	// Reclone (element 15) tells the client that the log it would pull
	// from was truncated below its cursor (LogFloor): it pushes its pending
	// changes, drops its synced rows and clones again by snapshot.
	Reclone bool
	// LogEpoch (element 16) names the server's log as restored: 0 for a
	// log never restored from a backup, a new random value at the first
	// start on each restored copy (§7.5). Sequence numbers past the
	// restore point name other entries under a new epoch, even below a
	// client's cursor, so a client that pulled under another epoch
	// replays the log from the start.
	LogEpoch uint64
}

// Push carries a batch of the client's changes, in its log order.
type Push struct {
	Batch   uint64
	Changes []Change
}

// ResultStatus is the fate of one pushed change.
type ResultStatus uint8

const (
	// ResultApplied: stored and now the field's value.
	ResultApplied ResultStatus = 1
	// ResultSuperseded: stored, but a concurrent write wins; the loser is in
	// the conflict log.
	ResultSuperseded ResultStatus = 2
	// ResultDuplicate: the server already held this write (pushed again
	// after a lost Ack); HLC is the stamp the server gave it if it
	// restamped it.
	ResultDuplicate ResultStatus = 3
	// ResultRefused: not stored; Code and Reason say why. The client keeps it
	// in its rejected list until a person acts.
	ResultRefused ResultStatus = 4
)

// Result is the server's answer for one change of a Push, in order.
type Result struct {
	Status ResultStatus
	// HLC is non-zero when the server restamped the change (its clock was
	// beyond the skew bound), in its first answer and in a duplicate's;
	// the client must adopt it.
	HLC    HLC
	Code   Code
	Reason string
	// Why is Reason as data, for the client to render in its user's
	// language (why.go); zero when the server gave none.
	Why Why
}

// Ack answers one Push. It is sent only after the batch is durable.
type Ack struct {
	Batch   uint64
	Results []Result
	// ServerTime lets the client refine its clock offset at every batch.
	ServerTime int64
}

// Pull asks for the server's log after Cursor, filtered by the device's scope.
type Pull struct {
	Cursor uint64
	// Limit caps the changes per Changes message (0: server default).
	Limit uint32
	// Durable is the highest cursor the client has stored in its replica.
	// A client that pipelines pulls asks for Cursor before it has stored
	// everything below it; the server measures tombstone garbage collection
	// by Durable, never by Cursor, so it never drops a tombstone a replica
	// has not stored. Zero means "unchanged since the last pull".
	Durable uint64
	// Scopes, when not empty, asks only for these hamlets' entries (and
	// evictions from them): a back-fill of hamlets the device's team gained,
	// from cursor 0, beside the device's own cursor. Each must be in the
	// device's scope (else CodeOutOfScope). A back-fill pull should send
	// Durable 0: its cursor is not the device's.
	Scopes []string
}

// Changes is one batch of a pull response. Applying it and storing To as the
// new cursor in one transaction makes the pull resumable and idempotent.
type Changes struct {
	From uint64
	To   uint64
	// More is true when the server has more after To; the client pulls again.
	More    bool
	Changes []Change
	// Evict lists rows that left this device's scope (a household moved to a
	// hamlet the team does not cover): the client drops them.
	Evict []Eviction
	// Horizon, when non-zero, is the server_seq at or below which every
	// active device covering any of this device's scopes holds the log
	// durably: the client may drop rows whose tombstone it received at or
	// below it. Sent on the last page of a pull.
	Horizon uint64
	// Lost lists the conflicts the server logged on the rows a move
	// logged again in this batch (its eighth element, appended in the
	// release after stop 63's: a client that predates it skips it, §11),
	// as SnapshotChunk.Lost does for a snapshot's rows: a row that comes
	// back into the device's scope by a move comes with the versions the
	// server holds, which alone cannot tell a client that dropped the row
	// whether its own write lost to one of them (docs/PROTOCOL.md §7.5).
	Lost []LostWrite
}

// Eviction tells a client that a row is no longer in its scope.
type Eviction struct {
	Table string
	Row   RowID
	// NewScope is where the row went, so the client can explain it.
	NewScope string
}

// ErrorMsg carries an *Error across the wire.
type ErrorMsg struct {
	Code Code
	Msg  string
	// Fatal means the sender closes the connection after this message.
	Fatal bool
}

func (*Hello) Type() MsgType    { return MsgHello }
func (*Welcome) Type() MsgType  { return MsgWelcome }
func (*Push) Type() MsgType     { return MsgPush }
func (*Ack) Type() MsgType      { return MsgAck }
func (*Pull) Type() MsgType     { return MsgPull }
func (*Changes) Type() MsgType  { return MsgChanges }
func (*ErrorMsg) Type() MsgType { return MsgError }
func (*Notify) Type() MsgType   { return MsgNotify }

// Err converts the message to an *Error.
func (m *ErrorMsg) Err() *Error { return &Error{Code: m.Code, Msg: m.Msg} }

// Notify tells a connected client that changes in its scope arrived after it
// last pulled, so a client in watch mode syncs at once instead of polling.
type Notify struct {
	Cursor uint64
}
