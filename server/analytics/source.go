package analytics

import (
	"context"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
)

// Ref names a synced row.
type Ref struct {
	Table string
	ID    string
}

// Source is what the read model needs from a store.
type Source interface {
	// Changed lists the synced rows changed after log position after, and the
	// log head the list reaches. A store whose collection removed entries
	// after that position (deleted rows' tombstones, a truncated log)
	// returns ErrResync and the model reloads everything.
	Changed(ctx context.Context, after uint64) ([]Ref, uint64, error)
	// Head is the current log head.
	Head(ctx context.Context) (uint64, error)
	// Load streams the current state of the given rows of one table (all rows
	// when ids is nil), deleted ones included, as column → value maps. The
	// map is fn's only until fn returns: a source may fill the same map
	// again for the next row (SQLSource does, so a full load of a province
	// makes no map per row). fn copies whatever it keeps.
	Load(ctx context.Context, table string, ids []string, fn func(id string, row map[string]any) error) error
	// Units is the admin-unit tree in force.
	Units(ctx context.Context) ([]schema.AdminUnit, error)
	// Teams lists teams with their hamlets and members.
	Teams(ctx context.Context) ([]Team, error)
}

// UnitsVersioner is a Source that tells when the admin units changed.
// UnitsVersion must differ from every earlier answer once a unit or a
// predecessor link was added, changed or removed, by whatever process;
// Refresh then builds the unit tree again, and only then. A Source without
// it has its units read at every Refresh.
type UnitsVersioner interface {
	UnitsVersion(ctx context.Context) (int64, error)
}

// Team is what statistics need of a team.
type Team struct {
	ID          string
	Name        string
	CommuneCode string
	Hamlets     []string
	Members     []Member
}

// Member is what statistics need of a member: never the name or phone.
type Member struct {
	ID   string
	Role string
	// LastSync is the most recent sync of any of the member's devices.
	LastSync time.Time
}
