package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
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
}

const metaRoster = "roster"

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
	ws, err := parseRoster(data)
	if err != nil {
		return err
	}
	b, err := json.Marshal(ws)
	if err != nil {
		return err
	}
	return setMeta(ctx, r.db, metaRoster, string(b))
}

// parseRoster reads the server's answer, refusing what is not a roster
// (it is external input).
func parseRoster(data []byte) ([]Writer, error) {
	var rr rosterResponse
	if err := json.Unmarshal(data, &rr); err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	if len(rr.Writers) > 10000 {
		return nil, errors.New("roster: oversized")
	}
	out := rr.Writers[:0]
	for _, w := range rr.Writers {
		if w.Replica == "" || len(w.Name) > 400 {
			continue
		}
		out = append(out, w)
	}
	return out, nil
}
