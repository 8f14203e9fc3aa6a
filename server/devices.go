package server

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Issue 9 part 2: a revoked device loses nothing. A device record is one
// token for one replica. Revoking it stops the token at once; the laptop
// keeps its replica (rows, outbox, conflicts). Enrolling the same replica
// again with a new code makes a NEW device record that names the one it
// replaces, takes over its pull cursor, and leaves the old token revoked.
// Everything the replica wrote keeps its origin (the replica's dots) and
// its author (volunteer_id), because neither is tied to the token.
//
// The re-enrollment policy (Reenroll) is:
//   - the replica must have no active device: one replica active on two
//     devices would let two laptops push the same origin's sequence
//     numbers (the stores back this with a unique index);
//   - the code's member must belong to the team of the replica's last
//     device: the same member (a lost token), or another member of the
//     same team (a laptop handed over). The records keep their original
//     author; what the new holder writes carries the new member. Another
//     team is refused: the replica's rows and pending records lie in the
//     old team's hamlets and would be refused or evicted.

// DeviceStore is what the operator's listings and the sessions' revocation
// check need of a store (re-enrollment and restore are transactions of
// DeviceTx: enrollment.go).
type DeviceStore interface {
	// DeviceByID returns a device (ErrNotFound).
	DeviceByID(ctx context.Context, id string) (Device, error)
	// DeviceRevoked is whether a device is revoked (ErrNotFound): the
	// check before every Push and Pull, so it is one narrow lookup.
	DeviceRevoked(ctx context.Context, id string) (bool, error)
	// DevicesBy lists the devices of a member and/or a team (empty fields
	// match any), revoked ones included, oldest first.
	DevicesBy(ctx context.Context, f DeviceFilter) ([]Device, error)
	// Codes lists enrollment codes the same way, oldest first. A code is
	// stored hashed: what is listed is everything but the code.
	Codes(ctx context.Context, f DeviceFilter) ([]CodeInfo, error)
}

// DeviceFilter selects devices or codes by member and/or team.
type DeviceFilter struct {
	MemberID string
	TeamID   string
}

// CodeInfo is an enrollment code as listed: never the code itself.
type CodeInfo struct {
	MemberID string     `json:"member_id"`
	TeamID   string     `json:"team_id"`
	Created  time.Time  `json:"created"`
	Expires  time.Time  `json:"expires"`
	Used     *time.Time `json:"used,omitempty"`
	DeviceID string     `json:"device_id,omitempty"` // the device enrolled with it
}

// CodeStatus is what became of a code.
type CodeStatus string

const (
	CodeUnused  CodeStatus = "unused"
	CodeUsed    CodeStatus = "used"
	CodeExpired CodeStatus = "expired"
)

// Status is the code's status at now.
func (c CodeInfo) Status(now time.Time) CodeStatus {
	switch {
	case c.Used != nil:
		return CodeUsed
	case !now.Before(c.Expires):
		return CodeExpired
	}
	return CodeUnused
}

// Re-enrollment and restore errors.
var (
	ErrReplicaActive = errors.New("the replica is active on another device")
	ErrReplicaTeam   = errors.New("the replica belongs to another team")
	ErrNotRevoked    = errors.New("the device is not revoked")
	// ErrReplaced: the device's replica was enrolled again; the laptop
	// holds the newer device's token, so that one is what to restore.
	ErrReplaced = errors.New("the device was replaced by")
)

// ReplicaError says which device stands in the way of an enrollment or a
// restore. Kind is ErrReplicaActive or ErrReplicaTeam.
type ReplicaError struct {
	Kind     error
	DeviceID string // the active device, or the replica's last device
}

func (e *ReplicaError) Error() string {
	if e.Kind == ErrReplaced {
		return fmt.Sprintf("%v %s, whose token the laptop holds: restore %s instead", e.Kind, e.DeviceID, e.DeviceID)
	}
	if e.Kind == ErrReplicaTeam {
		return fmt.Sprintf("%v (its last device is %s): issue the code to a member of that team", e.Kind, e.DeviceID)
	}
	return fmt.Sprintf("%v %s: revoke that device first (hamlet-server device revoke --device %s)", e.Kind, e.DeviceID, e.DeviceID)
}

func (e *ReplicaError) Unwrap() error { return e.Kind }

// Reenroll decides whether a code of member m may enroll a replica whose
// earlier devices are prev (any order; empty for a new replica), and which
// device the new one replaces (nil for a new replica). Enroll decides with
// it inside its transaction, so the decision and the write are one.
func Reenroll(prev []Device, m Member) (replaces *Device, err error) {
	if len(prev) == 0 {
		return nil, nil
	}
	for i := range prev {
		if prev[i].Revoked == nil {
			return nil, &ReplicaError{Kind: ErrReplicaActive, DeviceID: prev[i].ID}
		}
	}
	ds := append([]Device(nil), prev...)
	sort.Slice(ds, func(i, j int) bool {
		if !ds[i].Created.Equal(ds[j].Created) {
			return ds[i].Created.Before(ds[j].Created)
		}
		return ds[i].ID < ds[j].ID
	})
	last := ds[len(ds)-1]
	if last.TeamID != m.TeamID {
		return nil, &ReplicaError{Kind: ErrReplicaTeam, DeviceID: last.ID}
	}
	return &last, nil
}

// RestoreDevice makes a revoked device's token work again (the operator's
// undo of a revocation). It is refused when the device is not revoked, when
// its replica has since been enrolled again on an active device
// (ErrReplicaActive), or on a device now revoked too (ErrReplaced: the
// laptop holds that newer device's token, restoring the old one would not
// let it sync).
func (a *Admin) RestoreDevice(ctx context.Context, deviceID string) (Device, error) {
	devs, err := a.s.store.Devices(ctx)
	if err != nil {
		return Device{}, fmt.Errorf("restore device %s: %w", deviceID, err)
	}
	for _, o := range devs {
		if o.Replaces == deviceID && o.Revoked != nil {
			return Device{}, fmt.Errorf("restore device %s: %w", deviceID, &ReplicaError{Kind: ErrReplaced, DeviceID: o.ID})
		}
	}
	d, err := RestoreDevice(ctx, a.s.store, deviceID)
	if err != nil {
		return Device{}, fmt.Errorf("restore device %s: %w", deviceID, err)
	}
	a.s.log.Info("device restored", LogDevice, d.ID, LogMember, d.MemberID, LogReplica, d.Replica.String())
	return d, nil
}

// ListDevicesBy lists the devices of a member and/or team; an unknown
// member or team is ErrNotFound (not an empty list, which would hide a typo).
func (a *Admin) ListDevicesBy(ctx context.Context, f DeviceFilter) ([]Device, error) {
	if err := a.checkFilter(ctx, f); err != nil {
		return nil, err
	}
	a.s.flushActivity(ctx)
	return a.s.store.DevicesBy(ctx, f)
}

// ListCodes lists the enrollment codes of a member and/or team.
func (a *Admin) ListCodes(ctx context.Context, f DeviceFilter) ([]CodeInfo, error) {
	if err := a.checkFilter(ctx, f); err != nil {
		return nil, err
	}
	return a.s.store.Codes(ctx, f)
}

func (a *Admin) checkFilter(ctx context.Context, f DeviceFilter) error {
	if f.MemberID != "" {
		if _, err := a.s.store.Member(ctx, f.MemberID); err != nil {
			return fmt.Errorf("member %s: %w", f.MemberID, ErrNotFound)
		}
	}
	if f.TeamID != "" {
		teams, err := a.s.store.Teams(ctx)
		if err != nil {
			return err
		}
		for _, t := range teams {
			if t.ID == f.TeamID {
				return nil
			}
		}
		return fmt.Errorf("team %s: %w", f.TeamID, ErrNotFound)
	}
	return nil
}

// authorizedLocked re-reads the device before a Push or a Pull, so a device
// revoked by another process (the operator's CLI on the same data, another
// server on the same PostgreSQL) is cut at its next message rather than at
// the next RevokeCheck tick. false: the session was failed. Callers hold
// opMu.
func (c *conn) authorizedLocked(ctx context.Context) bool {
	// A message being handled when Close begins still finishes (Close
	// waits for it, then says shutting_down): the server's cancelled
	// context must not turn this read into "unavailable".
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.s.cfg.WriteWait)
	defer cancel()
	revoked, err := c.st.DeviceRevoked(ctx, c.dev.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		c.failLocked(syncproto.Errorf(syncproto.CodeUnauthorized, "the device is no longer enrolled"))
		return false
	case err != nil:
		c.failLocked(storeError("cannot check the device", err))
		return false
	case revoked:
		c.reason = "revoked"
		c.failLocked(errRevoked)
		return false
	}
	return true
}

// replicaMsg is the message of a re-enrollment refusal: which device is in
// the way and what the operator does about it (no personal data).
func replicaMsg(err error) string {
	var re *ReplicaError
	if errors.As(err, &re) {
		return re.Error()
	}
	return err.Error()
}
