package agent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Photos of field reports (docs/PROTOCOL.md §19). An attached image is
// processed here (internal/photo: recognised by content, checked, scaled,
// re-encoded without EXIF), kept in the data folder under its digest
// (photos/<digest>.jpg, thumbnails photos/<digest>.thumb.jpg), and named
// in the report's photo_digests field, which syncs like any field. The
// bytes travel apart from the records (photosync.go).

// photosMigration is the agent's record of the photos it holds and sent.
// The files are the truth for what is here; the table remembers what the
// server confirmed, so a photo is not offered again at every sync.
const photosMigration = `
CREATE TABLE photos (
	digest TEXT PRIMARY KEY,
	size INTEGER NOT NULL DEFAULT 0,
	full INTEGER NOT NULL DEFAULT 0,
	thumb INTEGER NOT NULL DEFAULT 0,
	uploaded INTEGER NOT NULL DEFAULT 0,
	added_at INTEGER NOT NULL
) WITHOUT ROWID;
`

// photosAwayMigration: away is the field report that named a photo taken
// here, not yet confirmed by the server, when a pull dropped that report
// from the laptop (its hamlet left the team's scope, a move, a clone).
// The photo is on this laptop only: it is still offered to the server
// (which takes it from the device that named it) and counted as waiting
// until the server confirms it (photoWork).
const photosAwayMigration = `ALTER TABLE photos ADD COLUMN away TEXT;`

// photosHeldMigration: away_held says the server's list of the away
// report names the photo (as this laptop knew the list when it dropped
// the report), so the server takes it whatever becomes of the laptop's
// own later writes of the list: the photo is offered while such a write
// waits or was refused, and a discard of one does not forget it; 0 says
// it does not. Notes made before are NULL, unknown: the rule they were
// made under governs them (offered once no write of the list waits,
// forgotten when a list the server never held is discarded).
const photosHeldMigration = `ALTER TABLE photos ADD COLUMN away_held INTEGER;`

// photosOrphansMigration (agent migration 12) marks the replica for
// adoptOrphanPhotos, which Open runs once. An agent built before
// migration 11 dropped a report from the laptop (its hamlet left the
// team) without a note of the photo it named that the server had not
// confirmed: after the upgrade that photo sat in the table with away
// NULL, named by nothing here, never offered nor counted, while the
// server held a report naming a photo it would never get (found by
// helper 134).
const photosOrphansMigration = `INSERT INTO agent_meta (key, value) VALUES ('` + metaPhotoOrphans + `', '') ON CONFLICT (key) DO NOTHING;`

const metaPhotoOrphans = "photos_orphans"

// adoptOrphanPhotos notes, once (photosOrphansMigration), every photo
// taken here that the server has not confirmed and that nothing here
// names (no report, live or deleted, no change of a report's photos in
// the outbox) as away with an unknown report (away = ”): it is offered,
// counted and told like the photos of reports a pull dropped. The server
// takes it from this device if a report it holds, written here, names it;
// if none does (a report removed here before it ever synced), it answers
// photo_unreferenced and the note is forgotten in silence (SyncPhotos).
// Photos left so by this build are its own matter: the pass never runs
// again.
func (r *Replica) adoptOrphanPhotos(ctx context.Context) error {
	var marked bool
	if err := r.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM agent_meta WHERE key = ?)`, metaPhotoOrphans).Scan(&marked); err != nil {
		return fmt.Errorf("note the photos no report names: %w", err)
	}
	if damaged, _ := r.Damaged(); !marked || damaged {
		// A replica marked damaged takes no write, and must still open for
		// reading: the mark stays for the open after its repair (which
		// notes the photos itself: notePhotoFiles).
		return nil
	}
	t, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	// A replica at a schema without photos never had a report name one:
	// nothing to note.
	if _, ok := r.sch.Table("field_reports"); ok && r.hasColumn("field_reports", schema.PhotoDigestsField) {
		if err := t.adoptOrphanPhotos(); err != nil {
			return fmt.Errorf("note the photos no report names: %w", err)
		}
	}
	if err := t.exec(`DELETE FROM agent_meta WHERE key = ?`, metaPhotoOrphans); err != nil {
		return err
	}
	return t.commit()
}

func (t *txn) adoptOrphanPhotos() error {
	orphans, err := t.strings(`SELECT digest FROM photos WHERE full = 1 AND uploaded = 0 AND away IS NULL`)
	if err != nil || len(orphans) == 0 {
		return err
	}
	named := map[string]bool{}
	vals, err := t.strings(`SELECT photo_digests FROM field_reports WHERE photo_digests IS NOT NULL
		UNION SELECT value FROM outbox WHERE tbl = 'field_reports' AND field = '` + schema.PhotoDigestsField + `' AND value IS NOT NULL`)
	if err != nil {
		return err
	}
	es, err := t.rowEntries(`tbl = 'field_reports'`)
	if err != nil {
		return err
	}
	for _, e := range es {
		for _, f := range e.fields {
			if f.field == schema.PhotoDigestsField && f.value.Kind() == syncproto.KindString {
				vals = append(vals, f.value.AsString())
			}
		}
	}
	for _, v := range vals {
		for _, d := range schema.PhotoDigests(v) {
			named[d] = true
		}
	}
	for _, d := range orphans {
		if named[d] || !t.r.HasPhoto(d, false) {
			continue
		}
		if err := t.exec(`UPDATE photos SET away = '' WHERE digest = ? AND away IS NULL`, d); err != nil {
			return err
		}
	}
	return nil
}

// strings reads a query's single text column.
func (t *txn) strings(q string, args ...any) ([]string, error) {
	rows, err := t.tx.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if v.Valid {
			out = append(out, v.String)
		}
	}
	return out, rows.Err()
}

// keepPhotosAway notes (photos.away), for the live field reports about to
// be dropped (cond: a condition on field_reports' rows, with args), which
// of them named each photo here that the server has not confirmed (its
// list here, or the server's: heldPhotoList), and whether the server's
// list names it (away_held). Called before every drop of rows
// (dropHamlets, dropHeld, drop).
func (t *txn) keepPhotosAway(cond string, args ...any) error {
	if !t.r.hasColumn("field_reports", schema.PhotoDigestsField) {
		return nil
	}
	// A note left by an earlier drop of these reports is stale now: they
	// came back, and what they name (or their own delete) governs.
	if err := t.exec(`UPDATE photos SET away = NULL, away_held = 0 WHERE away IN (SELECT id FROM field_reports WHERE `+cond+`)`, args...); err != nil {
		return fmt.Errorf("note the photos of dropped reports: %w", err)
	}
	ids, err := t.strings(`SELECT id FROM field_reports WHERE photo_digests IS NOT NULL AND NOT _deleted AND (`+cond+`)`, args...)
	if err != nil {
		return fmt.Errorf("note the photos of dropped reports: %w", err)
	}
	rids := make([]syncproto.RowID, 0, len(ids))
	for _, id := range ids {
		rid, err := uuid.Parse(id)
		if err != nil {
			return fmt.Errorf("note the photos of dropped reports: %w", err)
		}
		rids = append(rids, rid)
	}
	sts, err := t.getMany(rids)
	if err != nil {
		return fmt.Errorf("note the photos of dropped reports: %w", err)
	}
	for _, rid := range rids {
		st := sts[rid]
		if st == nil {
			continue
		}
		held, err := t.heldPhotoList(st)
		if err != nil {
			return fmt.Errorf("note the photos of dropped reports: %w", err)
		}
		// The photos its list here names, and those the server's names
		// that a later list here left out (replaced, refused): the server
		// takes them all the same, and only this laptop may have them.
		var names []string
		if v := st.cur[schema.PhotoDigestsField]; v != nil && !st.deleted() && v.Value.Kind() == syncproto.KindString {
			names = schema.PhotoDigests(v.Value.AsString())
		}
		for _, d := range held {
			if !slices.Contains(names, d) {
				names = append(names, d)
			}
		}
		for _, d := range names {
			// A note the server's list names stays so: another report of
			// the drop (a new one, refused) may name the same photo.
			if err := t.exec(`UPDATE photos SET away = ?1, away_held = ?2 WHERE digest = ?3 AND full = 1 AND uploaded = 0 AND NOT (coalesce(away_held, 0) = 1 AND ?2 = 0)`,
				st.idText(), boolInt(slices.Contains(held, d)), d); err != nil {
				return fmt.Errorf("note the photos of dropped reports: %w", err)
			}
		}
	}
	return nil
}

// heldPhotoList is a report's photo list as the server holds it, as far as
// this replica knows: the current version, unless a write of the list here
// waits in the outbox (unsent, its answer lost, or refused); then the
// version the first of them was written over (a write over a refused one
// is based on what that overwrote). nil when the server holds no list of
// it, or the version is not in the row's history.
func (t *txn) heldPhotoList(st *rowState) ([]string, error) {
	q, err := t.stmt(`SELECT EXISTS (SELECT 1 FROM outbox_rows WHERE row_id = ?)`)
	if err != nil {
		return nil, err
	}
	var whole bool
	if err := q.QueryRowContext(t.ctx, st.idText()).Scan(&whole); err != nil || whole {
		return nil, err // a new row the server does not hold whole yet
	}
	if q, err = t.stmt(`SELECT base_replica, base_seq FROM outbox WHERE row_id = ? AND field = ? ORDER BY seq LIMIT 1`); err != nil {
		return nil, err
	}
	v := st.cur[schema.PhotoDigestsField]
	var baseRep []byte
	var baseSeq int64
	err = q.QueryRowContext(t.ctx, st.idText(), schema.PhotoDigestsField).Scan(&baseRep, &baseSeq)
	switch {
	case err == nil:
		v = st.overwritten(schema.PhotoDigestsField, dotFrom(baseRep, baseSeq))
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	if v == nil || v.Value.Kind() != syncproto.KindString {
		return nil, nil
	}
	return schema.PhotoDigests(v.Value.AsString()), nil
}

// forgetPhotosAway forgets the photos.away notes of a report the volunteer
// discarded: the server never held its naming of them, so they are
// nobody's to send. A photo the server's list names (away_held) stays:
// the server holds that naming whatever is discarded here.
func (t *txn) forgetPhotosAway(id syncproto.RowID) error {
	if !t.r.hasColumn("field_reports", schema.PhotoDigestsField) {
		return nil
	}
	return t.exec(`UPDATE photos SET away = NULL WHERE away = ? AND coalesce(away_held, 0) = 0`, id.String())
}

// PhotoDir is the folder of a replica's photos.
func (r *Replica) PhotoDir() string { return filepath.Join(filepath.Dir(r.path), "photos") }

// PhotoPath is where a photo (or its thumbnail) is kept, whether or not it
// is there.
func (r *Replica) PhotoPath(digest string, thumb bool) string {
	if thumb {
		return filepath.Join(r.PhotoDir(), digest+".thumb.jpg")
	}
	return filepath.Join(r.PhotoDir(), digest+".jpg")
}

// HasPhoto reports whether the photo (or thumbnail) is in the data folder.
func (r *Replica) HasPhoto(digest string, thumb bool) bool {
	if !photo.ValidDigest(digest) {
		return false
	}
	_, err := os.Stat(r.PhotoPath(digest, thumb))
	return err == nil
}

// PhotoError is an attached file Hamlet does not take, said so a volunteer
// knows what to do.
type PhotoError struct {
	File string // as the volunteer named it (may be empty)
	Err  error
}

func (e *PhotoError) Error() string { return e.text("en") }
func (e *PhotoError) Unwrap() error { return e.Err }

// Message says it in the volunteer's language.
func (e *PhotoError) Message(lang string) string { return e.text(lang) }

func (e *PhotoError) text(lang string) string {
	vi, en := photoErrorText(e.Err)
	if e.File != "" {
		vi, en = fmt.Sprintf("Ảnh %q: %s", e.File, vi), fmt.Sprintf("Photo %q: %s", e.File, en)
	}
	if lang == "en" {
		return en
	}
	return vi
}

func photoErrorText(err error) (vi, en string) {
	var se *photo.SizeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("ảnh %d × %d điểm ảnh là quá lớn (tối đa %d triệu điểm ảnh); hãy chụp lại ở chế độ thường hoặc thu nhỏ ảnh.", se.Width, se.Height, photo.DefaultMaxPixels/1_000_000),
			fmt.Sprintf("the image is %d × %d pixels, too many (at most %d megapixels); take it again in the normal mode or shrink it.", se.Width, se.Height, photo.DefaultMaxPixels/1_000_000)
	case errors.Is(err, photo.ErrFileTooLarge):
		return fmt.Sprintf("tệp quá lớn (tối đa %d MB); hãy chọn ảnh nhỏ hơn.", photo.DefaultMaxBytes>>20),
			fmt.Sprintf("the file is too large (at most %d MB); choose a smaller photo.", photo.DefaultMaxBytes>>20)
	case errors.Is(err, photo.ErrNotImage):
		return "không phải ảnh JPEG, PNG hay WebP (Hamlet xem nội dung tệp, không xem tên tệp); hãy chọn một tấm ảnh chụp.",
			"not a JPEG, PNG or WebP image (Hamlet reads the file's content, not its name); choose a photo."
	case errors.Is(err, photo.ErrDamaged):
		return "tệp ảnh bị hỏng hoặc không trọn vẹn; hãy chép lại ảnh từ điện thoại rồi thử lại.",
			"the image file is damaged or cut short; copy the photo from the phone again and retry."
	case errors.Is(err, ErrTooManyPhotos):
		return fmt.Sprintf("một phản ánh có tối đa %d ảnh.", schema.MaxPhotos), fmt.Sprintf("a report holds at most %d photos.", schema.MaxPhotos)
	}
	return "không đọc được ảnh.", "the photo could not be read."
}

// ErrTooManyPhotos: more than schema.MaxPhotos on one report (as a
// *PhotoError).
var ErrTooManyPhotos = errors.New("too many photos on one report")

// PreparePhoto checks and processes an attached file: nothing is kept yet.
// A bad file gives a *PhotoError.
func PreparePhoto(name string, data []byte, l photo.Limits) (photo.Photo, error) {
	p, err := photo.Process(data, l)
	if err != nil {
		return p, &PhotoError{File: name, Err: err}
	}
	return p, nil
}

// KeepPhoto writes a processed photo into the data folder (synced, then
// named, so a file there is whole) and records it. The report that names
// it is written after: a record never names a photo the laptop lacks.
func (r *Replica) KeepPhoto(ctx context.Context, p photo.Photo) error {
	if err := writeFileSynced(r.PhotoPath(p.Digest, false), p.JPEG); err != nil {
		return fmt.Errorf("keep photo: %w", err)
	}
	// Its thumbnail too, made here: lists show it without the server.
	thumb := 0
	if th, err := photo.Thumbnail(p.JPEG, photo.ThumbSide, photo.Limits{}); err == nil && writeFileSynced(r.PhotoPath(p.Digest, true), th) == nil {
		thumb = 1
	}
	_, err := r.writer().ExecContext(ctx, `INSERT INTO photos (digest, size, full, thumb, added_at) VALUES (?, ?, 1, ?, ?)
		ON CONFLICT (digest) DO UPDATE SET full = 1, size = excluded.size, thumb = MAX(thumb, excluded.thumb)`, p.Digest, len(p.JPEG), thumb, r.now().UnixMilli())
	if err != nil {
		return r.Classify(fmt.Errorf("keep photo: %w", err))
	}
	return nil
}

// Attached is what AttachPhoto did.
type Attached struct {
	Digest string `json:"digest"`
	Bytes  int    `json:"bytes"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	// Already: the report named this photo before (the same image
	// attached twice): nothing changed.
	Already bool `json:"already,omitempty"`
	// GPS is the position in the photo's EXIF, offered as the report's
	// place; UsedGPS says whether the report took it (the volunteer
	// agreed).
	GPS     *photo.GPS `json:"gps,omitempty"`
	UsedGPS bool       `json:"used_gps,omitempty"`
}

// AttachPhoto adds a processed photo to a report: keeps it, then appends
// its digest to photo_digests and, when useGPS and the photo has a
// position, writes it as the report's lat and lng; in one transaction,
// reading the list as it stands (another command may have attached one).
func (r *Replica) AttachPhoto(ctx context.Context, report syncproto.RowID, p photo.Photo, useGPS bool) (Attached, error) {
	var gps *photo.GPS
	if useGPS {
		gps = p.GPS
	}
	as, err := r.AttachPhotos(ctx, report, []photo.Photo{p}, gps)
	if len(as) == 0 {
		return Attached{Digest: p.Digest, Bytes: len(p.JPEG), Width: p.Width, Height: p.Height, GPS: p.GPS}, err
	}
	return as[0], err
}

// AttachPhotos adds processed photos to a report, all or none: the list
// past schema.MaxPhotos refuses them all (a *PhotoError), nothing
// written. gps, when not nil, is written as the report's place.
func (r *Replica) AttachPhotos(ctx context.Context, report syncproto.RowID, ps []photo.Photo, gps *photo.GPS) ([]Attached, error) {
	as := make([]Attached, len(ps))
	for i, p := range ps {
		as[i] = Attached{Digest: p.Digest, Bytes: len(p.JPEG), Width: p.Width, Height: p.Height, GPS: p.GPS}
	}
	tbl, err := r.lookup("field_reports")
	if err != nil {
		return as, err
	}
	// The report's list as it stands, checked before any photo is kept.
	check := func(t *txn) (*rowState, []string, error) {
		st, err := t.get(report)
		if err != nil {
			return nil, nil, err
		}
		if st == nil || st.table != "field_reports" {
			return nil, nil, &NotFoundError{Table: "field_reports", ID: report.String()}
		}
		if st.deleted() {
			return nil, nil, &DeletedError{Table: "field_reports", ID: report.String()}
		}
		var cur []string
		if v := st.cur[schema.PhotoDigestsField]; v != nil {
			cur = schema.PhotoDigests(v.Value.AsString())
		}
		next := slices.Clone(cur)
		for _, p := range ps {
			if !slices.Contains(next, p.Digest) {
				next = append(next, p.Digest)
			}
		}
		if len(next) > schema.MaxPhotos {
			return nil, nil, &PhotoError{Err: ErrTooManyPhotos}
		}
		return st, cur, nil
	}
	t, err := r.begin(ctx)
	if err != nil {
		return as, err
	}
	_, _, err = check(t)
	t.rollback()
	if err != nil {
		return as, err
	}
	for _, p := range ps {
		if err := r.KeepPhoto(ctx, p); err != nil {
			return as, err
		}
	}
	t, err = r.begin(ctx)
	if err != nil {
		return as, err
	}
	defer t.rollback()
	st, cur, err := check(t) // again: another command may have attached one meanwhile
	if err != nil {
		return as, err
	}
	next := slices.Clone(cur)
	for i, p := range ps {
		if slices.Contains(next, p.Digest) {
			as[i].Already = slices.Contains(cur, p.Digest)
			continue
		}
		next = append(next, p.Digest)
	}
	fs := Fields{}
	if len(next) > len(cur) {
		fs[schema.PhotoDigestsField] = schema.PhotoDigestsValue(next)
	}
	if gps != nil {
		fs["lat"], fs["lng"] = gps.Lat, gps.Lng
		for i, p := range ps {
			if p.GPS == gps {
				as[i].UsedGPS = true
			}
		}
	}
	if len(fs) == 0 {
		return as, nil
	}
	ws, err := r.normalize(tbl, fs, false)
	if err != nil {
		return as, err
	}
	if _, err := r.writeFields(t, st, ws); err != nil {
		return as, err
	}
	return as, t.commit()
}

// ReportPhoto is one photo a report names, and what this laptop holds of it.
type ReportPhoto struct {
	Digest string `json:"digest"`
	Full   bool   `json:"full"`  // the photo is here
	Thumb  bool   `json:"thumb"` // its thumbnail is here
	// Uploaded: the server confirmed it holds the photo (for photos taken
	// here; a pulled report's photo is the server's already).
	Uploaded bool  `json:"uploaded"`
	Bytes    int64 `json:"bytes,omitempty"`
}

// ReportPhotos lists the photos a report names, in its order.
func (r *Replica) ReportPhotos(ctx context.Context, report syncproto.RowID) ([]ReportPhoto, error) {
	d, err := r.Show(ctx, "field_reports", report.String())
	if err != nil {
		return nil, err
	}
	var out []ReportPhoto
	for _, dg := range schema.PhotoDigests(d.Fields[schema.PhotoDigestsField]) {
		p := ReportPhoto{Digest: dg, Full: r.HasPhoto(dg, false), Thumb: r.HasPhoto(dg, true)}
		var size, up int64
		err := r.db.QueryRowContext(ctx, `SELECT size, uploaded FROM photos WHERE digest = ?`, dg).Scan(&size, &up)
		if err == nil {
			p.Uploaded, p.Bytes = up == 1, size
		}
		out = append(out, p)
	}
	return out, nil
}

// writeFileSynced writes data to path through a synced temporary file, so
// path is absent or whole after any crash.
func writeFileSynced(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() == int64(len(data)) {
		return nil // content-addressed: the same bytes are there
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// PhotoDigests is every photo the laptop's live reports name.
func (r *Replica) PhotoDigests(ctx context.Context) ([]string, error) {
	return r.reportDigests(ctx, namedLive)
}
