package sqlread

import (
	"context"
	"fmt"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
)

// PhotoReports lists the field reports whose photo_digests names digest.
// A digest is 64 hex digits, so LIKE finds exactly it (no wildcard can be
// in it); reports are few beside households, and the scan runs once per
// photo transfer, not per pull.
func (s *Source) PhotoReports(ctx context.Context, digest string) ([]server.PhotoReport, error) {
	if !server.ValidBlobKey(digest) || len(digest) != 64 {
		return nil, nil
	}
	rows, err := s.DB.QueryContext(ctx, s.q(`SELECT id, COALESCE(hamlet_code, ''), _deleted FROM field_reports WHERE photo_digests LIKE ? ORDER BY id`),
		`%"`+digest+`"%`)
	if err != nil {
		return nil, fmt.Errorf("reports of a photo: %w", err)
	}
	defer rows.Close()
	var out []server.PhotoReport
	for rows.Next() {
		var r server.PhotoReport
		var del int64
		if err := rows.Scan(&r.ID, &r.Hamlet, &del); err != nil {
			return nil, fmt.Errorf("reports of a photo: %w", err)
		}
		r.Deleted = del != 0
		out = append(out, r)
	}
	return out, rows.Err()
}

// PhotoDigestsInUse is every digest a field report's photo_digests names.
func (s *Source) PhotoDigestsInUse(ctx context.Context) (map[string]bool, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT photo_digests FROM field_reports WHERE photo_digests IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("photos in use: %w", err)
	}
	defer rows.Close()
	in := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("photos in use: %w", err)
		}
		for _, d := range schema.PhotoDigests(v) {
			in[d] = true
		}
	}
	return in, rows.Err()
}
