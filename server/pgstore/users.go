package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

const userCols = `id, username, display_name, role, unit_code, password_hash, created_ms, disabled_ms, unit_changed_on`

func scanUser(sc pgx.Row) (server.User, error) {
	var u server.User
	var role string
	var created int64
	var disabled *int64
	var changed *string
	if err := sc.Scan(&u.ID, &u.Username, &u.DisplayName, &role, &u.UnitCode, &u.PasswordHash, &created, &disabled, &changed); err != nil {
		return u, err
	}
	if changed != nil {
		u.UnitChangedOn = *changed
	}
	u.Role = analytics.Role(role)
	u.Created = time.UnixMilli(created).UTC()
	if disabled != nil {
		t := time.UnixMilli(*disabled).UTC()
		u.Disabled = &t
	}
	return u, nil
}

func (s *Store) AddUser(ctx context.Context, u server.User) error {
	return s.write(ctx, func(w *pgTx) error {
		_, err := w.tx.Exec(w.ctx, `INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)`,
			u.ID, u.Username, u.DisplayName, string(u.Role), u.UnitCode, u.PasswordHash, u.Created.UnixMilli())
		if isUnique(err) {
			return server.ErrConflict
		}
		return err
	})
}

// UserByName finds a user by username, case-insensitively.
func (s *Store) UserByName(ctx context.Context, username string) (server.User, error) {
	u, err := scanUser(s.q().QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE lower(username) = lower($1)`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, server.ErrNotFound
	}
	return u, err
}

func (s *Store) Users(ctx context.Context) ([]server.User, error) {
	rows, err := s.q().Query(ctx, `SELECT `+userCols+` FROM users ORDER BY username COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []server.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *Store) DisableUser(ctx context.Context, username string, at time.Time) error {
	return s.write(ctx, func(w *pgTx) error {
		var id string
		err := w.tx.QueryRow(w.ctx, `UPDATE users SET disabled_ms = COALESCE(disabled_ms, $1) WHERE lower(username) = lower($2) RETURNING id`,
			at.UnixMilli(), username).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return server.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = w.tx.Exec(w.ctx, `DELETE FROM user_sessions WHERE user_id = $1`, id)
		return err
	})
}

// markUnitChanged sets unit_changed_on (if unset) on every enabled user
// bound to one of codes (ImportUnitsMarking).
func markUnitChanged(w *pgTx, codes []string, on string) error {
	if len(codes) == 0 {
		return nil
	}
	_, err := w.tx.Exec(w.ctx, `UPDATE users SET unit_changed_on = COALESCE(unit_changed_on, $1) WHERE unit_code = ANY($2) AND disabled_ms IS NULL`, on, codes)
	if err != nil {
		return fmt.Errorf("mark users of changed units: %w", err)
	}
	return nil
}

func (s *Store) RebindUser(ctx context.Context, username, unitCode string) error {
	return s.write(ctx, func(w *pgTx) error {
		tag, err := w.tx.Exec(w.ctx, `UPDATE users SET unit_code = $1, unit_changed_on = NULL WHERE lower(username) = lower($2)`, unitCode, username)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return server.ErrNotFound
		}
		return nil
	})
}

func (s *Store) PutSession(ctx context.Context, us server.UserSession) error {
	return s.write(ctx, func(w *pgTx) error {
		// Expired sessions go as new ones come: the table stays small.
		if _, err := w.tx.Exec(w.ctx, `DELETE FROM user_sessions WHERE expires_ms < $1`, us.Created.UnixMilli()); err != nil {
			return err
		}
		_, err := w.tx.Exec(w.ctx, `INSERT INTO user_sessions (token_hash, user_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4)`,
			us.TokenHash, us.UserID, us.Created.UnixMilli(), us.Expires.UnixMilli())
		return err
	})
}

func (s *Store) SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (server.User, error) {
	u, err := scanUser(s.q().QueryRow(ctx, `SELECT u.id, u.username, u.display_name, u.role, u.unit_code, u.password_hash,
		u.created_ms, u.disabled_ms, u.unit_changed_on FROM user_sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_ms > $2 AND u.disabled_ms IS NULL`, tokenHash, now.UnixMilli()))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, server.ErrNotFound
	}
	return u, err
}

func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	return s.write(ctx, func(w *pgTx) error {
		_, err := w.tx.Exec(w.ctx, `DELETE FROM user_sessions WHERE token_hash = $1`, tokenHash)
		return err
	})
}
