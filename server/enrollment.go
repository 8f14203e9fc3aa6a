package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// The enrollment policy (enroll, enroll again with a used code, fork a
// copied replica, restore a revoked device), decided here once for every
// store from the primitives of DeviceTx, each in one transaction so the
// decision and the write are one.

// DeviceTx is the part of a write transaction enrollment works with. A
// store shared by several processes makes two enrollments of one replica,
// or of one code, take turns: Code locks the code, Device the device, and
// ReplicaDevices the replica (a unique index of active devices per replica
// backs them: AddDevice and Unrevoke then return *ReplicaError).
type DeviceTx interface {
	// Code is the enrollment code with that hash (its TeamID unset), locked
	// for this transaction; ErrNotFound if there is none.
	Code(hash []byte) (CodeInfo, error)
	// UseCode marks a code used at at by deviceID.
	UseCode(hash []byte, at time.Time, deviceID string) error
	// Device is a device, locked for this transaction (ErrNotFound).
	Device(id string) (Device, error)
	// ReplicaDevices lists every device of replica r, revoked ones
	// included, and holds r against other enrollments of it until the
	// transaction ends.
	ReplicaDevices(r syncproto.ReplicaID) ([]Device, error)
	// ForkedDevice is the active device of replica r forked from device
	// from (AddFork), if any.
	ForkedDevice(r syncproto.ReplicaID, from string) (d Device, ok bool, err error)
	Member(id string) (Member, error) // ErrNotFound
	Team(id string) (Team, error)     // ErrNotFound
	// AddDevice stores a new device, with its cursor and Replaces.
	AddDevice(d Device) error
	// SetToken gives a device a new token, label and client.
	SetToken(id string, tokenHash []byte, label, client string) error
	// Unrevoke clears a device's revocation.
	Unrevoke(id string) error
	// AddFork records that device id was forked from device from.
	AddFork(id, from string, at time.Time) error
}

// Updater runs a write transaction: what the policies written over Tx
// (Enroll, ForkDevice, RestoreDevice, Collect) need of a store.
type Updater interface {
	// Update runs fn in one write transaction and commits it when fn
	// returns nil; the commit is durable when Update returns nil. A store
	// may run fn again from the start (pgstore, after a lock conflict), so
	// fn keeps no state it does not reset.
	Update(ctx context.Context, fn func(Tx) error) error
}

// Enroll consumes the code whose hash is codeHash and creates d. It
// returns ErrCodeInvalid, ErrCodeExpired or ErrCodeUsed. A replica
// enrolled before is enrolled again by the policy of Reenroll (devices.go):
// *ReplicaError refuses it, leaving the code unused. The replica a used
// code enrolled gets the same device again, with d's token, while the code
// has not expired and the device is not revoked (Enrollment.Again).
func Enroll(ctx context.Context, st Updater, codeHash []byte, now time.Time, d Device) (Enrollment, error) {
	var out Enrollment
	err := st.Update(ctx, func(tx Tx) error {
		var err error
		out, err = enroll(tx, codeHash, now, d)
		return err
	})
	return out, err
}

func enroll(tx DeviceTx, codeHash []byte, now time.Time, d Device) (Enrollment, error) {
	c, err := tx.Code(codeHash)
	if errors.Is(err, ErrNotFound) {
		return Enrollment{}, ErrCodeInvalid
	}
	if err != nil {
		return Enrollment{}, fmt.Errorf("enroll: %w", err)
	}
	valid := now.UnixMilli() < c.Expires.UnixMilli()
	if c.Used != nil {
		// The same replica again, its enroll cut off before it kept the
		// token: the same device, a new token.
		if d, err = enrollAgain(tx, c.DeviceID, d, valid); err != nil {
			return Enrollment{}, err
		}
	} else if !valid {
		return Enrollment{}, ErrCodeExpired
	}
	m, err := tx.Member(c.MemberID)
	if err != nil {
		return Enrollment{}, err
	}
	t, err := tx.Team(m.TeamID)
	if err != nil {
		return Enrollment{}, err
	}
	if c.Used != nil {
		return Enrollment{Device: d, Member: m, Team: t, Again: true}, nil
	}
	d.MemberID, d.TeamID = m.ID, m.TeamID
	prev, err := tx.ReplicaDevices(d.Replica)
	if err != nil {
		return Enrollment{}, fmt.Errorf("enroll: read the replica's devices: %w", err)
	}
	rep, err := Reenroll(prev, m)
	if err != nil {
		return Enrollment{}, fmt.Errorf("enroll: %w", err)
	}
	if rep != nil {
		d.Replaces, d.Cursor = rep.ID, rep.Cursor
	}
	if err := tx.UseCode(codeHash, now, d.ID); err != nil {
		return Enrollment{}, fmt.Errorf("enroll: %w", err)
	}
	if err := tx.AddDevice(d); err != nil {
		return Enrollment{}, storeDeviceError("enroll: store device", err)
	}
	return Enrollment{Device: d, Member: m, Team: t}, nil
}

// Issue 14, defect 2: an enroll killed after the server answered (a closed
// lid, `| head -1`) leaves the code used and the laptop without its token.
// The same replica presenting the same code again, while the code has not
// expired, gets the device the code made, with a new token (the old one,
// never kept, stops working). Another replica is refused (code_used): the
// code is the secret, the replica id only tells the laptop it was given to.

// enrollAgain is the device the used code enrolled, with d's token, label
// and client, when it is d's replica's and still active and the code is
// still valid; otherwise ErrCodeUsed.
func enrollAgain(tx DeviceTx, usedBy string, d Device, valid bool) (Device, error) {
	if !valid || usedBy == "" {
		return d, ErrCodeUsed
	}
	prev, err := tx.Device(usedBy)
	if errors.Is(err, ErrNotFound) {
		return d, ErrCodeUsed
	}
	if err != nil {
		return d, fmt.Errorf("enroll: read the code's device: %w", err)
	}
	if prev.Replica != d.Replica || prev.Revoked != nil {
		return d, ErrCodeUsed
	}
	if err := tx.SetToken(prev.ID, d.TokenHash, d.Label, d.Client); err != nil {
		return d, fmt.Errorf("enroll: replace the device's token: %w", err)
	}
	prev.TokenHash, prev.Label, prev.Client = d.TokenHash, d.Label, d.Client
	return prev, nil
}

// ForkDevice makes d, of from's member, for a new replica whose numbering
// starts after startSeq; or, asked again for the same replica by the same
// device, gives the device it made d's token (Enrollment.Again), if that
// device never connected (its answer was lost). from
// revoked meanwhile: ErrRevoked. The replica on another device, or holding
// changes: *ReplicaError ErrReplicaActive.
func ForkDevice(ctx context.Context, st Updater, from Device, d Device, startSeq uint64) (Enrollment, error) {
	var out Enrollment
	err := st.Update(ctx, func(tx Tx) error {
		var err error
		out, err = forkDevice(tx, from, d, startSeq)
		return err
	})
	return out, err
}

func forkDevice(tx Tx, from Device, d Device, startSeq uint64) (Enrollment, error) {
	cur, err := tx.Device(from.ID)
	if errors.Is(err, ErrNotFound) {
		return Enrollment{}, ErrNotFound
	}
	if err != nil {
		return Enrollment{}, fmt.Errorf("fork: read the device: %w", err)
	}
	if cur.Revoked != nil {
		return Enrollment{}, ErrRevoked
	}
	others, err := tx.ReplicaDevices(d.Replica)
	if err != nil {
		return Enrollment{}, fmt.Errorf("fork: read the replica's devices: %w", err)
	}
	m, err := tx.Member(from.MemberID)
	if err != nil {
		return Enrollment{}, err
	}
	t, err := tx.Team(m.TeamID)
	if err != nil {
		return Enrollment{}, err
	}
	// Asked again: the device this one forked for that replica.
	prev, ok, err := tx.ForkedDevice(d.Replica, from.ID)
	if err != nil {
		return Enrollment{}, fmt.Errorf("fork: read the forked device: %w", err)
	}
	if ok && prev.LastSeen != nil {
		// The device made for that replica has connected: the copy that
		// asked first got it. A folder copied while its fork waited holds
		// the same proposed id and this device's parent token; handed the
		// device again, it took the first copy's token away and wrote
		// under its id (simulation wide seed 4630314). It chooses another
		// id (agent/fork.go).
		return Enrollment{}, &ReplicaError{Kind: ErrReplicaActive, DeviceID: prev.ID}
	}
	if ok {
		if err := tx.SetToken(prev.ID, d.TokenHash, d.Label, d.Client); err != nil {
			return Enrollment{}, fmt.Errorf("fork: replace the device's token: %w", err)
		}
		prev.TokenHash, prev.Label, prev.Client = d.TokenHash, d.Label, d.Client
		return Enrollment{Device: prev, Member: m, Team: t, Again: true}, nil
	}
	if len(others) > 0 {
		return Enrollment{}, &ReplicaError{Kind: ErrReplicaActive, DeviceID: others[0].ID}
	}
	if seq, err := tx.OriginSeq(d.Replica); err != nil {
		return Enrollment{}, err
	} else if seq > 0 {
		return Enrollment{}, &ReplicaError{Kind: ErrReplicaActive}
	}
	d.MemberID, d.TeamID, d.Cursor, d.Replaces = m.ID, m.TeamID, 0, ""
	if err := tx.AddDevice(d); err != nil {
		return Enrollment{}, storeDeviceError("fork: store device", err)
	}
	if err := tx.AddFork(d.ID, from.ID, d.Created); err != nil {
		return Enrollment{}, fmt.Errorf("fork: %w", err)
	}
	if startSeq > 0 {
		if err := tx.SetOriginSeq(d.Replica, startSeq); err != nil {
			return Enrollment{}, err
		}
	}
	return Enrollment{Device: d, Member: m, Team: t}, nil
}

// RestoreDevice clears a device's revocation so its token works again. It
// returns ErrNotFound, ErrNotRevoked, or a *ReplicaError of
// ErrReplicaActive when another device of its replica is active.
func RestoreDevice(ctx context.Context, st Updater, id string) (Device, error) {
	var d Device
	err := st.Update(ctx, func(tx Tx) error {
		var err error
		d, err = restoreDevice(tx, id)
		return err
	})
	return d, err
}

func restoreDevice(tx DeviceTx, id string) (Device, error) {
	d, err := tx.Device(id)
	if errors.Is(err, ErrNotFound) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("read device: %w", err)
	}
	if d.Revoked == nil {
		return d, ErrNotRevoked
	}
	devs, err := tx.ReplicaDevices(d.Replica)
	if err != nil {
		return d, fmt.Errorf("read the replica's devices: %w", err)
	}
	for _, o := range devs {
		if o.ID != id && o.Revoked == nil {
			return d, &ReplicaError{Kind: ErrReplicaActive, DeviceID: o.ID}
		}
	}
	if err := tx.Unrevoke(id); err != nil {
		return d, storeDeviceError("restore", err)
	}
	d.Revoked = nil
	return d, nil
}

// storeDeviceError wraps a failed device write, but for the *ReplicaError
// a store returns when its unique index refuses a second active device of
// one replica (another process enrolled it meanwhile), which is the answer.
func storeDeviceError(what string, err error) error {
	var re *ReplicaError
	if errors.As(err, &re) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}
