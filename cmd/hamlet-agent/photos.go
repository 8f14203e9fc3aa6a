package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/schema"
)

// Photos of field reports on the command line: `report add --photo`,
// `report attach`, `report photos`, `report photo` (agent/photos.go).

type photoOpts struct {
	useGPS *bool
	side   *int
}

func (e *env) photoFlags(fs *flag.FlagSet, files *setFlags) photoOpts {
	if files != nil {
		fs.Var(files, "photo", e.tr("`TỆP` ảnh chụp kèm theo (JPEG, PNG hoặc WebP; lặp lại được)", "`FILE` a photo to attach (JPEG, PNG or WebP; repeatable)"))
	}
	return photoOpts{
		useGPS: fs.Bool("use-photo-location", false, e.tr("lấy vị trí GPS trong ảnh làm địa điểm của phản ánh (chỉ khi ảnh có)", "take the photo's GPS position as the report's place (when it has one)")),
		side:   fs.Int("photo-size", photo.DefaultLongSide, e.tr("`ĐIỂM_ẢNH` cạnh dài nhất của ảnh lưu và gửi đi", "`PIXELS` the longest side of the photo kept and sent")),
	}
}

func (e *env) preparePhotos(files []string, o photoOpts) ([]photo.Photo, error) {
	if *o.side < 320 || *o.side > 4096 {
		return nil, &agent.InputError{VI: "--photo-size phải từ 320 đến 4096 điểm ảnh.", EN: "--photo-size must be 320 to 4096 pixels.", Detail: "--photo-size: not in 320..4096"}
	}
	var out []photo.Photo
	distinct := map[string]bool{}
	for _, f := range files {
		b, err := readPhotoFile(f)
		if err != nil {
			return nil, err
		}
		p, err := agent.PreparePhoto(filepath.Base(f), b, photo.Limits{LongSide: *o.side})
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		// Refused here, before any photo is kept: the report would be
		// refused after, and its photos left in the data folder.
		if distinct[p.Digest] = true; len(distinct) > schema.MaxPhotos {
			return nil, &agent.PhotoError{Err: agent.ErrTooManyPhotos}
		}
	}
	return out, nil
}

// readPhotoFile reads at most the size limit (and one byte more, to tell
// a larger file).
func readPhotoFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, &agent.InputError{VI: fmt.Sprintf("Không mở được tệp ảnh %q: hãy kiểm tra tên và thư mục.", name),
			EN:     fmt.Sprintf("Cannot open the photo file %q: check its name and folder.", name),
			Detail: fmt.Sprintf("photo file: cannot open it (a name of %s): %s", schema.Shape(filepath.Base(name)), openReason(err))}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err == nil && fi.Size() > photo.DefaultMaxBytes {
		return nil, &agent.PhotoError{File: filepath.Base(name), Err: photo.ErrFileTooLarge}
	}
	b := make([]byte, 0, max(0, min(fi.Size(), photo.DefaultMaxBytes)))
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		b = append(b, buf[:n]...)
		if len(b) > photo.DefaultMaxBytes {
			return nil, &agent.PhotoError{File: filepath.Base(name), Err: photo.ErrFileTooLarge}
		}
		if err != nil {
			break
		}
	}
	return b, nil
}

// photoPlace is the position to write as the report's place: the first
// photo's that has one, and only when the volunteer agreed.
func (e *env) photoPlace(ps []photo.Photo, agreed bool) *photo.GPS {
	if !agreed {
		return nil
	}
	for _, p := range ps {
		if p.GPS != nil {
			return p.GPS
		}
	}
	return nil
}

// photosSaved says what was attached and offers a position not taken.
func (e *env) photosSaved(report string, files []string, ps []photo.Photo, used bool) {
	if e.json || len(ps) == 0 {
		return
	}
	for i, p := range ps {
		fmt.Fprintf(e.stdout, e.tr("Ảnh %s: %d × %d, %s (mã ảnh %s)\n", "Photo %s: %d × %d, %s (photo id %s)\n"),
			filepath.Base(files[i]), p.Width, p.Height, i18n.Bytes(int64(len(p.JPEG)), e.lang), p.Digest[:12])
	}
	if used {
		fmt.Fprintln(e.stdout, e.tr("Đã lấy vị trí GPS trong ảnh làm địa điểm của phản ánh.", "The photo's GPS position is the report's place."))
		return
	}
	for i, p := range ps {
		if p.GPS != nil {
			fmt.Fprintf(e.stdout, e.tr("Ảnh có vị trí GPS (%.5f, %.5f). Để dùng làm địa điểm của phản ánh: hamlet-agent report attach %s %s --use-photo-location\n",
				"The photo has a GPS position (%.5f, %.5f). To make it the report's place: hamlet-agent report attach %s %s --use-photo-location\n"),
				p.GPS.Lat, p.GPS.Lng, short(report), quoteArg(files[i]))
			return
		}
	}
}

func quoteArg(s string) string {
	if strings.ContainsAny(s, " \t'\"") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// reportAttach: hamlet-agent report attach ID FILE [--use-photo-location].
func (e *env) reportAttach(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report attach", flag.ContinueOnError)
	po := e.photoFlags(fs, nil)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent report attach MÃ_PHẢN_ÁNH TỆP_ẢNH [--use-photo-location]",
			"Usage: hamlet-agent report attach REPORT_ID PHOTO_FILE [--use-photo-location]"))
	}
	ps, err := e.preparePhotos([]string{fs.Arg(1)}, po)
	if err != nil {
		return err
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	id, err := r.ResolveID(ctx, "field_reports", fs.Arg(0))
	if err != nil {
		return err
	}
	a, err := r.AttachPhoto(ctx, id, ps[0], *po.useGPS)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(a)
	}
	if a.Already {
		fmt.Fprintln(e.stdout, e.tr("Phản ánh đã có ảnh này.", "The report has this photo already."))
	} else {
		fmt.Fprintf(e.stdout, "%s %s\n", e.tr("Đã gắn ảnh, sẽ gửi khi đồng bộ. Mã ảnh:", "Photo attached; it will be sent at the next sync. Photo id:"), a.Digest[:12])
	}
	e.photosSaved(id.String(), []string{fs.Arg(1)}, ps, a.UsedGPS)
	return nil
}

// reportPhotos: hamlet-agent report photos ID.
func (e *env) reportPhotos(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report photos", flag.ContinueOnError)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent report photos MÃ_PHẢN_ÁNH", "Usage: hamlet-agent report photos REPORT_ID"))
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	id, err := r.ResolveID(ctx, "field_reports", fs.Arg(0))
	if err != nil {
		return err
	}
	ps, err := r.ReportPhotos(ctx, id)
	if err != nil {
		return err
	}
	if e.json {
		if ps == nil {
			ps = []agent.ReportPhoto{}
		}
		return e.printJSON(ps)
	}
	var rows [][]string
	for _, p := range ps {
		where := e.tr("chưa tải về (hamlet-agent report photo "+p.Digest[:12]+")", "not fetched (hamlet-agent report photo "+p.Digest[:12]+")")
		switch {
		case p.Full:
			where = r.PhotoPath(p.Digest, false)
		case p.Thumb:
			where = e.tr("ảnh thu nhỏ: ", "thumbnail: ") + r.PhotoPath(p.Digest, true)
		}
		sent := ""
		if p.Full && !p.Uploaded {
			sent = e.tr("chờ gửi", "to send")
		}
		rows = append(rows, []string{p.Digest[:12], where, sent})
	}
	e.table([]string{e.tr("MÃ ẢNH", "PHOTO"), e.tr("TRÊN MÁY", "ON THIS LAPTOP"), ""}, rows)
	fmt.Fprintf(e.stdout, "%d\n", len(ps))
	return nil
}

// reportPhoto: hamlet-agent report photo PHOTO_ID [--out FILE]: the full
// photo, fetched from the server the first time and kept.
func (e *env) reportPhoto(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report photo", flag.ContinueOnError)
	out := fs.String("out", "", e.tr("`TỆP` chép ảnh ra tệp này", "`FILE` copy the photo to this file"))
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent report photo MÃ_ẢNH [--out TỆP]", "Usage: hamlet-agent report photo PHOTO_ID [--out FILE]"))
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	digest, err := e.photoID(ctx, r, fs.Arg(0))
	if err != nil {
		return err
	}
	var b []byte
	if !r.HasPhoto(digest, false) {
		en, err := r.Enrollment(ctx)
		if err != nil {
			return err
		}
		if en == nil {
			return r.NotEnrolled(ctx)
		}
		path, err := e.tokenPath()
		if err != nil {
			return err
		}
		token, err := agent.ReadToken(path)
		if err != nil {
			return err
		}
		var ok bool
		b, ok, err = r.FetchPhoto(ctx, en.Server, token, digest, agent.SyncOptions{})
		if err != nil {
			return err
		}
		if !ok {
			return &agent.InputError{VI: "Máy chủ chưa có ảnh này: máy chụp ảnh chưa gửi lên. Hãy thử lại sau.",
				EN: "The server does not have this photo yet: the laptop that took it has not sent it. Try again later.", Detail: "photo: not on the server yet"}
		}
	}
	if *out != "" {
		if b == nil {
			if b, err = os.ReadFile(r.PhotoPath(digest, false)); err != nil {
				return err
			}
		}
		if err := os.WriteFile(*out, b, 0o600); err != nil {
			return err
		}
	}
	if e.json {
		return e.printJSON(map[string]string{"digest": digest, "path": r.PhotoPath(digest, false)})
	}
	fmt.Fprintln(e.stdout, r.PhotoPath(digest, false))
	return nil
}

// photoID resolves a photo id as people type it: the full digest or its
// first 8 or more characters, among the photos the laptop's reports name.
func (e *env) photoID(ctx context.Context, r *agent.Replica, s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if photo.ValidDigest(s) {
		return s, nil
	}
	if len(s) >= 8 {
		ds, err := r.PhotoDigests(ctx)
		if err != nil {
			return "", err
		}
		var match []string
		for _, d := range ds {
			if strings.HasPrefix(d, s) {
				match = append(match, d)
			}
		}
		if len(match) == 1 {
			return match[0], nil
		}
	}
	return "", &agent.InputError{VI: fmt.Sprintf("Không tìm thấy ảnh %q: xem mã ảnh bằng hamlet-agent report photos MÃ_PHẢN_ÁNH.", s),
		EN: fmt.Sprintf("No photo %q: see photo ids with hamlet-agent report photos REPORT_ID.", s), Detail: fmt.Sprintf("photo id: none of this laptop's photos (%s)", schema.Shape(s))}
}

// photoSummary is the photo line of a sync: what was sent and fetched,
// and what waits (with why).
func (e *env) photoSummary(ps *agent.PhotoSummary) {
	if ps == nil || e.json {
		return
	}
	resumed := int64(0)
	for _, r := range ps.Resumes {
		resumed += r.From
	}
	fmt.Fprintf(e.stdout, e.tr("Ảnh: gửi %s (%s", "Photos: sent %s (%s"), i18n.Int(int64(ps.Uploaded), e.lang), i18n.Bytes(ps.Sent, e.lang))
	if ps.Skipped > 0 {
		fmt.Fprintf(e.stdout, e.tr(", %s máy chủ đã có nên không gửi lại", ", %s the server had, not sent again"), i18n.Bytes(ps.Skipped, e.lang))
	}
	fmt.Fprintf(e.stdout, e.tr("), nhận %s ảnh thu nhỏ\n", "), received %s thumbnails\n"), i18n.Int(int64(ps.Thumbs), e.lang))
	if ps.Pending > 0 {
		fmt.Fprintf(e.stderr, e.tr("Còn %s ảnh chưa gửi hoặc chưa nhận được; Hamlet sẽ thử lại ở lần đồng bộ sau.", "%s photos are not sent or received yet; Hamlet tries again at the next sync."), i18n.Int(int64(ps.Pending), e.lang))
		if m := ps.Message(e.lang); m != "" {
			fmt.Fprintf(e.stderr, " (%s)", m)
		}
		fmt.Fprintln(e.stderr)
	}
}

// photos shows the photo transfer's own progress, in bytes: a bar on a
// terminal, a line now and then otherwise.
func (b *bar) photos(p agent.Progress) {
	if p.Total <= 0 {
		return
	}
	if b.plain {
		if time.Since(b.last) < 2*time.Second && p.Done < p.Total {
			return
		}
		b.last = time.Now()
		fmt.Fprintf(os.Stderr, b.e.tr("Đang gửi ảnh: %d%% (%s / %s)\n", "Sending photos: %d%% (%s / %s)\n"),
			p.Done*100/p.Total, i18n.Bytes(int64(p.Done), b.e.lang), i18n.Bytes(int64(p.Total), b.e.lang))
		return
	}
	if b.pb == nil || b.phase != p.Phase {
		if b.pb != nil {
			b.pb.Finish()
			fmt.Fprintln(os.Stderr)
		}
		b.pb = progressbar.NewOptions(p.Total, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription(b.e.tr("Đang gửi ảnh", "Sending photos")),
			progressbar.OptionShowBytes(true), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		b.phase = p.Phase
	}
	b.pb.ChangeMax(p.Total)
	b.pb.Set(p.Done)
}

// openReason is why a file did not open, without its path (os.PathError's
// Err: "no such file or directory"): the path, a volunteer's folder and
// file names, may name a person.
func openReason(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return "not opened"
}
