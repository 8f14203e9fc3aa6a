package sqlitestore

import (
	"context"
	"fmt"
	"strings"

	"github.com/hamlet-vn/hamlet/server"
)

// ImportTeams inserts teams, their hamlets and members in one transaction.
func (s *Store) ImportTeams(ctx context.Context, teams []server.Team, members []server.Member) error {
	return s.write(ctx, func(w *writeTx) error {
		for _, t := range teams {
			if _, err := w.exec(`INSERT INTO teams (id, commune_code, name) VALUES (?, ?, ?)`, t.ID, t.CommuneCode, t.Name); err != nil {
				if strings.Contains(err.Error(), "UNIQUE") {
					return fmt.Errorf("import team %s: %w", t.ID, server.ErrConflict)
				}
				return fmt.Errorf("import team %s: %w", t.ID, err)
			}
			for _, h := range t.Hamlets {
				if _, err := w.exec(`INSERT INTO team_hamlets (team_id, hamlet_code) VALUES (?, ?)`, t.ID, h); err != nil {
					return fmt.Errorf("import team %s: hamlet %s: %w", t.ID, h, err)
				}
			}
		}
		for _, m := range members {
			var phone any
			if m.Phone != "" {
				phone = m.Phone
			}
			if _, err := w.exec(`INSERT INTO members (id, team_id, name, role, phone) VALUES (?, ?, ?, ?, ?)`, m.ID, m.TeamID, m.Name, m.Role, phone); err != nil {
				return fmt.Errorf("import member %s: %w", m.ID, err)
			}
		}
		return nil
	})
}

// SetTeamCommunes moves teams to other communes (after a reorganisation).
func (s *Store) SetTeamCommunes(ctx context.Context, communeOf map[string]string) error {
	return s.write(ctx, func(w *writeTx) error {
		for id, c := range communeOf {
			if _, err := w.exec(`UPDATE teams SET commune_code = ? WHERE id = ?`, c, id); err != nil {
				return fmt.Errorf("move team %s: %w", id, err)
			}
		}
		return nil
	})
}

// ReparentHamlets sets hamlets' parent communes in one transaction.
func (s *Store) ReparentHamlets(ctx context.Context, parentOf map[string]string) error {
	return s.write(ctx, func(w *writeTx) error {
		for h, c := range parentOf {
			if _, err := w.exec(`UPDATE admin_units SET parent_code = ? WHERE code = ? AND level = 'hamlet'`, c, h); err != nil {
				return fmt.Errorf("re-parent hamlet %s: %w", h, err)
			}
		}
		return nil
	})
}
