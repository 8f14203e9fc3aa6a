package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

var _ server.UserStore = (*Store)(nil)

const userCols = `id, username, display_name, role, unit_code, password_hash, created_ms, disabled_ms, unit_changed_on`

func scanUser(sc interface{ Scan(...any) error }) (server.User, error) {
	var u server.User
	var role string
	var created int64
	var disabled sql.NullInt64
	var changed sql.NullString
	if err := sc.Scan(&u.ID, &u.Username, &u.DisplayName, &role, &u.UnitCode, &u.PasswordHash, &created, &disabled, &changed); err != nil {
		return u, err
	}
	u.UnitChangedOn = changed.String
	u.Role = analytics.Role(role)
	u.Created = time.UnixMilli(created).UTC()
	if disabled.Valid {
		t := time.UnixMilli(disabled.Int64).UTC()
		u.Disabled = &t
	}
	return u, nil
}

func (s *Store) AddUser(ctx context.Context, u server.User) error {
	return s.write(ctx, func(w *writeTx) error {
		_, err := w.exec(`INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
			u.ID, u.Username, u.DisplayName, string(u.Role), u.UnitCode, u.PasswordHash, u.Created.UnixMilli())
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return server.ErrConflict
		}
		return err
	})
}

func (s *Store) UserByName(ctx context.Context, username string) (server.User, error) {
	u, err := scanUser(s.rdb.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return u, server.ErrNotFound
	}
	return u, err
}

func (s *Store) Users(ctx context.Context) ([]server.User, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY username`)
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
	return s.write(ctx, func(w *writeTx) error {
		var id string
		row, err := w.queryRow(`SELECT id FROM users WHERE username = ?`, username)
		if err != nil {
			return err
		}
		if err := row.Scan(&id); errors.Is(err, sql.ErrNoRows) {
			return server.ErrNotFound
		} else if err != nil {
			return err
		}
		if _, err := w.exec(`UPDATE users SET disabled_ms = COALESCE(disabled_ms, ?) WHERE id = ?`, at.UnixMilli(), id); err != nil {
			return err
		}
		_, err = w.exec(`DELETE FROM user_sessions WHERE user_id = ?`, id)
		return err
	})
}

// markUnitChanged sets unit_changed_on (if unset) on every enabled user
// bound to one of codes (ImportUnitsMarking).
func markUnitChanged(w *writeTx, codes []string, on string) error {
	for _, code := range codes {
		if _, err := w.exec(`UPDATE users SET unit_changed_on = COALESCE(unit_changed_on, ?) WHERE unit_code = ? AND disabled_ms IS NULL`, on, code); err != nil {
			return fmt.Errorf("mark users of unit %s: %w", code, err)
		}
	}
	return nil
}

func (s *Store) RebindUser(ctx context.Context, username, unitCode string) error {
	return s.write(ctx, func(w *writeTx) error {
		res, err := w.exec(`UPDATE users SET unit_code = ?, unit_changed_on = NULL WHERE username = ?`, unitCode, username)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return server.ErrNotFound
		}
		return nil
	})
}

func (s *Store) PutSession(ctx context.Context, us server.UserSession) error {
	return s.write(ctx, func(w *writeTx) error {
		// Expired sessions go as new ones come: the table stays small.
		if _, err := w.exec(`DELETE FROM user_sessions WHERE expires_ms < ?`, us.Created.UnixMilli()); err != nil {
			return err
		}
		_, err := w.exec(`INSERT INTO user_sessions (token_hash, user_id, created_ms, expires_ms) VALUES (?, ?, ?, ?)`,
			us.TokenHash, us.UserID, us.Created.UnixMilli(), us.Expires.UnixMilli())
		return err
	})
}

func (s *Store) SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (server.User, error) {
	u, err := scanUser(s.rdb.QueryRowContext(ctx, `SELECT u.id, u.username, u.display_name, u.role, u.unit_code, u.password_hash,
		u.created_ms, u.disabled_ms, u.unit_changed_on FROM user_sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_ms > ? AND u.disabled_ms IS NULL`, tokenHash, now.UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		return u, server.ErrNotFound
	}
	return u, err
}

func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	return s.write(ctx, func(w *writeTx) error {
		_, err := w.exec(`DELETE FROM user_sessions WHERE token_hash = ?`, tokenHash)
		return err
	})
}
