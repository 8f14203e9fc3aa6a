package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// txConn is a write transaction on one pool connection that spends as few
// round trips as it can (a push's transaction makes about five instead of
// a dozen or more):
//
//   - BEGIN is not sent on its own: it travels in front of the
//     transaction's first statement;
//   - writes nobody reads back at once (row saves, conflicts, refusals) are
//     queued and travel in front of the next statement, or with COMMIT;
//   - pipeline (run) sends a few statements of the caller's together with
//     all of that, and reads their results in order.
//
// Every statement runs in the same transaction as with pgx.Tx, in the
// order it was issued, so the transaction sees its own writes: anything
// that reads sends the queued writes first. An error in a queued write
// surfaces at the statement it travelled with (or at commit), and fails
// the transaction as it would have at once: nothing of it is committed.
type txConn struct {
	conn   *pgx.Conn
	begun  bool
	queued []queuedWrite
}

type queuedWrite struct {
	what string // for the error: "save rows", "record conflict"...
	sql  string
	args []any
}

// queue adds a write that is sent with the next statement.
func (t *txConn) queue(what, sql string, args ...any) {
	t.queued = append(t.queued, queuedWrite{what: what, sql: sql, args: args})
}

// pipeline sends BEGIN (if not sent yet), the queued writes and the
// statements add queues, in one round trip, then lets read take the
// results of add's statements in order.
func (t *txConn) pipeline(ctx context.Context, add func(b *pgx.Batch), read func(br pgx.BatchResults) error) error {
	b := &pgx.Batch{}
	begin := !t.begun
	if begin {
		b.Queue("BEGIN")
	}
	for _, q := range t.queued {
		b.Queue(q.sql, q.args...)
	}
	if add != nil {
		add(b)
	}
	if b.Len() == 0 {
		return nil
	}
	queued := t.queued
	t.queued = nil
	br := t.conn.SendBatch(ctx, b)
	if begin {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("begin: %w", err)
		}
		t.begun = true
	}
	for _, q := range queued {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("%s: %w", q.what, err)
		}
	}
	if read != nil {
		if err := read(br); err != nil {
			br.Close()
			return err
		}
	}
	return br.Close()
}

// sync sends BEGIN and the queued writes if there are any.
func (t *txConn) sync(ctx context.Context) error {
	if t.begun && len(t.queued) == 0 {
		return nil
	}
	return t.pipeline(ctx, nil, nil)
}

func (t *txConn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := t.pipeline(ctx, func(b *pgx.Batch) { b.Queue(sql, args...) }, func(br pgx.BatchResults) error {
		var err error
		tag, err = br.Exec()
		return err
	})
	return tag, err
}

func (t *txConn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.sync(ctx); err != nil {
		return nil, err
	}
	return t.conn.Query(ctx, sql, args...)
}

func (t *txConn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := t.sync(ctx); err != nil {
		return errRow{err}
	}
	return t.conn.QueryRow(ctx, sql, args...)
}

func (t *txConn) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.sync(ctx); err != nil {
		return 0, err
	}
	return t.conn.CopyFrom(ctx, table, cols, src)
}

// errCommitRolledBack: PostgreSQL answered COMMIT with ROLLBACK (the
// transaction had failed).
var errCommitRolledBack = errors.New("commit: the transaction was rolled back")

// commit sends the queued writes, the statements add queues (read takes
// their results) and COMMIT in one round trip. A transaction that never
// began has nothing to commit.
func (t *txConn) commit(ctx context.Context, add func(b *pgx.Batch), read func(br pgx.BatchResults) error) error {
	if !t.begun && len(t.queued) == 0 && add == nil {
		return nil
	}
	return t.pipeline(ctx, func(b *pgx.Batch) {
		if add != nil {
			add(b)
		}
		b.Queue("COMMIT")
	}, func(br pgx.BatchResults) error {
		if read != nil {
			if err := read(br); err != nil {
				return err
			}
		}
		tag, err := br.Exec()
		if err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		if tag.String() != "COMMIT" {
			return errCommitRolledBack
		}
		return nil
	})
}

// rollback ends a transaction that began. A connection left in a
// transaction (the ROLLBACK failed) is closed by the pool on release.
func (t *txConn) rollback(ctx context.Context) error {
	t.queued = nil
	if !t.begun {
		return nil
	}
	t.begun = false
	_, err := t.conn.Exec(ctx, "ROLLBACK")
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
