package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hamlet-vn/hamlet/schema"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Writer names who writes with a replica: a member of the team and the
// laptop's replica. The names are personal data: they are kept in the
// replica like the households' own, and never logged.
type Writer struct {
	Replica string `json:"replica_id"`
	Member  string `json:"member_id"`
	Name    string `json:"name"`
}

// rosterResponse is the JSON of GET /v1/roster (docs/PROTOCOL.md §3.1).
type rosterResponse struct {
	Writers []Writer `json:"writers"`
	Hamlets []Hamlet `json:"hamlets"` // the device's hamlets by name; none from an older server
}

const metaRoster = "roster"

// ServerWriters are the replicas the server writes its own changes under
// (a coordinator's report transition, a record following its household),
// to name as the coordinators': the server's id, and the one it writes
// under in the log epoch of this replica's last sync, if restored
// (syncproto.ServerWriter). An older restore's is not told apart. Empty
// before the enrollment.
func (r *Replica) ServerWriters(ctx context.Context) map[string]bool {
	en, err := r.Enrollment(ctx)
	if err != nil || en == nil || en.ServerID == "" {
		return map[string]bool{}
	}
	out := map[string]bool{en.ServerID: true}
	id, err := uuid.Parse(en.ServerID)
	if err != nil {
		return out
	}
	if s, err := r.meta(ctx, r.db, metaLogEpoch); err == nil && s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n != 0 {
			out[syncproto.ServerWriter(id, uint64(n)).String()] = true // the bits of the uint64
		}
	}
	return out
}

// Writers returns the team's roster as last fetched, by replica id: who
// to name for a change's origin in conflicts and in a record's history.
// An empty map before the first fetch (an older server has none).
func (r *Replica) Writers(ctx context.Context) (map[string]Writer, error) {
	s, err := r.meta(ctx, r.db, metaRoster)
	if err != nil || s == "" {
		return map[string]Writer{}, err
	}
	var ws []Writer
	if err := json.Unmarshal([]byte(s), &ws); err != nil {
		return map[string]Writer{}, nil // a roster we cannot read is one we do not have
	}
	out := make(map[string]Writer, len(ws))
	for _, w := range ws {
		out[w.Replica] = w
	}
	return out, nil
}

// RefreshRoster fetches the team's roster from the server (GET /v1/roster,
// with the device token) and keeps it in the replica. It is best effort
// for its callers: a server that predates the roster answers 404, and
// names then fall back to a short replica id.
func (r *Replica) RefreshRoster(ctx context.Context, server, token string) error {
	u, err := NormalizeServerURL(server)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String()+"/v1/roster", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := r.httpc.Do(req)
	if err != nil {
		return &ConnectError{URL: u.String(), Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return &ConnectError{URL: u.String(), Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		if se := parseErrorBody(resp.StatusCode, data); se != nil {
			return se
		}
		return fmt.Errorf("roster: HTTP %d", resp.StatusCode)
	}
	ws, hamlets, err := parseRoster(data)
	if err != nil {
		return err
	}
	b, err := json.Marshal(ws)
	if err != nil {
		return err
	}
	if err := setMeta(ctx, r.writer(), metaRoster, string(b)); err != nil {
		return err
	}
	if err := r.nameHamlets(ctx, hamlets); err != nil {
		return err
	}
	// What the server could not name (an older server names none) is
	// not asked again at every sync (NeedsRoster).
	unnamed, err := r.unnamedHamlets(ctx)
	if err != nil {
		return err
	}
	if err := setMeta(ctx, r.writer(), metaRosterUnnamed, listJSON(unnamed)); err != nil {
		return err
	}
	return setMeta(ctx, r.writer(), metaRosterAt, r.now().UnixMilli())
}

const (
	metaRosterUnnamed = "roster_unnamed"
	// metaRosterAt is when the roster was last fetched (Unix ms, this
	// laptop's clock).
	metaRosterAt = "roster_at"
)

// RosterMaxAge is how old a roster may be before a sync that brought
// nothing fetches it again: what the server renamed (a hamlet, a member)
// comes with no row, and a team whose hamlets see no other laptop's
// change would otherwise keep the old names for good.
const RosterMaxAge = 6 * time.Hour

// unnamedHamlets are the codes of the scope's hamlets without a name.
func (r *Replica) unnamedHamlets(ctx context.Context) ([]string, error) {
	e, err := r.Enrollment(ctx)
	if err != nil || e == nil {
		return nil, err
	}
	var out []string
	for _, h := range e.Scope {
		if h.Name == "" {
			out = append(out, h.Code)
		}
	}
	return out, nil
}

// nameHamlets gives the hamlets of the scope the names the server has for
// them: a hamlet the team gained after the enrollment came by code alone.
// The scope itself is the Welcome's, not the roster's: only names change.
func (r *Replica) nameHamlets(ctx context.Context, hamlets []Hamlet) error {
	if len(hamlets) == 0 {
		return nil
	}
	names := make(map[string]string, len(hamlets))
	for _, h := range hamlets {
		names[h.Code] = h.Name
	}
	return r.editEnrollment(ctx, func(e *Enrollment) bool {
		changed := false
		for i, h := range e.Scope {
			if n, ok := names[h.Code]; ok && n != "" && n != h.Name {
				e.Scope[i].Name, changed = n, true
			}
		}
		return changed
	})
}

// parseRoster reads the server's answer, refusing what is not a roster
// (it is external input).
func parseRoster(data []byte) ([]Writer, []Hamlet, error) {
	var rr rosterResponse
	if err := json.Unmarshal(data, &rr); err != nil {
		return nil, nil, fmt.Errorf("roster: %w", err)
	}
	if len(rr.Writers) > 10000 || len(rr.Hamlets) > 10000 {
		return nil, nil, errors.New("roster: oversized")
	}
	out := rr.Writers[:0]
	for _, w := range rr.Writers {
		if w.Replica == "" || len(w.Name) > 400 {
			continue
		}
		out = append(out, w)
	}
	hamlets := rr.Hamlets[:0]
	for _, h := range rr.Hamlets {
		if schema.ValidateHamletCode(h.Code) != nil || len(h.Name) > 400 || !utf8.ValidString(h.Name) {
			continue
		}
		hamlets = append(hamlets, h)
	}
	return out, hamlets, nil
}

// NeedsRoster says whether the roster should be fetched though a sync
// brought nothing: there is none yet, it is older than RosterMaxAge, or a
// hamlet of the scope has no
// name (gained after the enrollment, which named the hamlets it had) and
// the last fetch did not already leave it so.
func (r *Replica) NeedsRoster(ctx context.Context) bool {
	if ws, err := r.Writers(ctx); err != nil || len(ws) == 0 {
		return err == nil
	}
	// Names the server changed come with no row: asked again when the
	// roster is older than RosterMaxAge (or from before the laptop's
	// clock was set back, or from a release that did not note the time).
	if at, err := r.metaInt(ctx, r.db, metaRosterAt); err == nil {
		if age := r.now().Sub(time.UnixMilli(at)); at == 0 || age < 0 || age > RosterMaxAge {
			return true
		}
	}
	unnamed, err := r.unnamedHamlets(ctx)
	if err != nil || len(unnamed) == 0 {
		return false
	}
	asked, _, err := r.metaList(ctx, r.db, metaRosterUnnamed)
	if err != nil {
		return false
	}
	for _, c := range unnamed {
		if !slices.Contains(asked, c) {
			return true
		}
	}
	return false
}
