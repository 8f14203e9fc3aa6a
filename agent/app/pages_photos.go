package app

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/schema"
)

// Photos in the volunteer's app: attached on the report form or on the
// report's page (decoded by content, scaled, re-encoded without EXIF by
// agent.PreparePhoto), shown as thumbnails, opened in full: from the data
// folder, or fetched from the server the first time and kept.

const (
	// maxPhotoForm bounds a form with photos: a few phone photos.
	maxPhotoForm = 4*photo.DefaultMaxBytes + maxForm
	// photoFormMemory is what a form keeps in memory; the rest goes to
	// temporary files the request removes.
	photoFormMemory = 8 << 20
)

func isMultipart(r *http.Request) bool {
	t, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return t == "multipart/form-data"
}

// formPhotos processes the form's photo files; the first bad one refuses
// them all (nothing is kept).
func formPhotos(r *http.Request) ([]photo.Photo, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	var out []photo.Photo
	for _, fh := range r.MultipartForm.File["photo"] {
		if fh.Size == 0 && fh.Filename == "" {
			continue // the browser sends an empty part when none is chosen
		}
		b, err := readPart(fh)
		if err != nil {
			return nil, err
		}
		p, err := agent.PreparePhoto(fh.Filename, b, photo.Limits{})
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(out, func(q photo.Photo) bool { return q.Digest == p.Digest }) {
			out = append(out, p) // the same photo chosen twice is one
		}
		if len(out) > schema.MaxPhotos {
			return nil, &agent.PhotoError{Err: agent.ErrTooManyPhotos}
		}
	}
	return out, nil
}

func readPart(fh *multipart.FileHeader) ([]byte, error) {
	if fh.Size > photo.DefaultMaxBytes {
		return nil, &agent.PhotoError{File: fh.Filename, Err: photo.ErrFileTooLarge}
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, photo.DefaultMaxBytes+1))
}

// agreedPlace is the position to take as the report's place: only when
// the volunteer ticked the box, and the first photo that has one.
func agreedPlace(r *http.Request, ps []photo.Photo) *photo.GPS {
	if r.PostForm.Get("use_photo_location") != "yes" {
		return nil
	}
	for _, p := range ps {
		if p.GPS != nil {
			return p.GPS
		}
	}
	return nil
}

// reportPhotoRow is one photo on a report's page.
type reportPhotoRow struct {
	Digest string
	Short  string
	Here   bool // the full photo is on the laptop
	Thumb  bool // something to show small
	// Known: the photo is here in full and its report live, so this
	// laptop sends it if the server lacks it: Waiting says it has not
	// confirmed it yet. A teammate's photo not here (a thumbnail, or
	// nothing yet) is not this laptop's to send, and the server may not
	// hold it either: no mark. Nor for a deleted report's photo: it is
	// never sent.
	Known, Waiting bool
}

type reportPage struct {
	Row     reportRow
	Photos  []reportPhotoRow
	Deleted bool // deleted on this laptop (by a command, say): shown, not added to
}

func (a *App) reportPageData(r *http.Request, en *agent.Enrollment, id string) (*reportPage, bool) {
	rid, err := uuid.Parse(id)
	if err != nil {
		return nil, false
	}
	d, err := a.r.Show(r.Context(), "field_reports", id)
	if err != nil || d.Table != "field_reports" {
		return nil, false
	}
	lang := a.langOf(r)
	snap, err := a.idx.get(r.Context())
	if err != nil {
		snap = nil
	}
	p := &reportPage{Row: a.reportRow(d.Record, lang, snap, hamletNames(en), a.names(r, en, lang)), Deleted: d.Deleted}
	ps, err := a.r.ReportPhotos(r.Context(), rid)
	if err != nil {
		// Not known whether they were sent: the photos without the mark.
		a.log.Warn("report photos", "report", id, "err", err)
		for _, dg := range schema.PhotoDigests(d.Fields[schema.PhotoDigestsField]) {
			full := a.r.HasPhoto(dg, false)
			p.Photos = append(p.Photos, reportPhotoRow{Digest: dg, Short: dg[:8], Here: full, Thumb: full || a.r.HasPhoto(dg, true)})
		}
		return p, true
	}
	for _, x := range ps {
		p.Photos = append(p.Photos, reportPhotoRow{Digest: x.Digest, Short: x.Digest[:8], Here: x.Full, Thumb: x.Full || x.Thumb,
			Known: x.Full && !d.Deleted, Waiting: !x.Uploaded})
	}
	return p, true
}

// reportPage shows one report with its photos and a form to add one.
func (a *App) reportPage(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	d, ok := a.reportPageData(r, en, r.PathValue("id"))
	if !ok {
		a.notFound(w, r)
		return
	}
	v := &view{Page: "reports", Data: d}
	if r.URL.Query().Get("done") == "photo" {
		v.Notice = tr(a.langOf(r), "done_photo")
	}
	a.render(w, r, http.StatusOK, "report", v)
}

// reportAttach adds the chosen photos to the report.
func (a *App) reportAttach(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	id := r.PathValue("id")
	d, ok := a.reportPageData(r, en, id)
	if !ok {
		a.notFound(w, r)
		return
	}
	lang := a.langOf(r)
	ps, err := formPhotos(r)
	if err == nil && len(ps) == 0 {
		err = &agent.InputError{VI: "Hãy chọn một tấm ảnh để gắn vào phản ánh.", EN: "Choose a photo to attach to the report.", Detail: "photo: none chosen to attach"}
	}
	if err == nil {
		gps := agreedPlace(r, ps)
		rid, _ := uuid.Parse(id)
		_, err = a.r.AttachPhotos(r.Context(), rid, ps, gps) // all or none
		if err == nil {
			a.sync.kickNow()
			http.Redirect(w, r, "/reports/"+id+"?done=photo", http.StatusSeeOther)
			return
		}
	}
	var pe *agent.PhotoError
	var ie *agent.InputError
	if !errors.As(err, &pe) && !errors.As(err, &ie) {
		// The report deleted meanwhile, a busy replica: said on the page.
		status, problem := a.saveProblem(r, err)
		a.render(w, r, status, "report", &view{Page: "reports", Data: d, Problem: problem})
		return
	}
	v := &view{Page: "reports", Data: d, Errors: map[string]string{"photo": agent.AppMessageOf(err, lang)}, Order: []string{"photo"}}
	a.render(w, r, http.StatusUnprocessableEntity, "report", v)
}

// photoNamed checks that a local report names the digest: the app serves
// the photos of the laptop's reports, nothing else of the folder.
func (a *App) photoNamed(r *http.Request) (string, bool) {
	dg := r.PathValue("digest")
	if !photo.ValidDigest(dg) {
		return "", false
	}
	ds, err := a.r.PhotoDigests(r.Context())
	return dg, err == nil && slices.Contains(ds, dg)
}

func servePhotoFile(w http.ResponseWriter, r *http.Request, path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	http.ServeContent(w, r, "", fileTime(f), f)
	return true
}

func (a *App) photoThumb(w http.ResponseWriter, r *http.Request, _ *agent.Enrollment) {
	dg, ok := a.photoNamed(r)
	if !ok {
		a.notFound(w, r)
		return
	}
	if servePhotoFile(w, r, a.r.PhotoPath(dg, true)) || servePhotoFile(w, r, a.r.PhotoPath(dg, false)) {
		return
	}
	a.notFound(w, r)
}

// photoFull serves the full photo; the first time a teammate's photo is
// opened it is fetched from the server and kept.
func (a *App) photoFull(w http.ResponseWriter, r *http.Request, en *agent.Enrollment) {
	dg, ok := a.photoNamed(r)
	if !ok {
		a.notFound(w, r)
		return
	}
	if servePhotoFile(w, r, a.r.PhotoPath(dg, false)) {
		return
	}
	lang := a.langOf(r)
	token, err := agent.ReadToken(a.cfg.TokenPath)
	if err == nil {
		var got bool
		_, got, err = a.r.FetchPhoto(r.Context(), en.Server, token, dg, a.cfg.Sync)
		if err == nil && got && servePhotoFile(w, r, a.r.PhotoPath(dg, false)) {
			return
		}
		if err == nil {
			err = &agent.InputError{VI: tr("vi", "photo_not_yet"), EN: tr("en", "photo_not_yet"), Detail: "photo: not on the server yet"}
		}
	}
	a.render(w, r, http.StatusServiceUnavailable, "problem", &view{Title: tr(lang, "title_photo"), Data: &problem{Text: agent.AppMessageOf(err, lang), Back: "/reports"}})
}

func fileTime(f *os.File) (t time.Time) {
	if fi, err := f.Stat(); err == nil {
		return fi.ModTime()
	}
	return t
}
