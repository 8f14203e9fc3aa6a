package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The photo transfer (docs/PROTOCOL.md §19): after the records, on HTTP
// connections of their own. Uploads go in chunks, each stored by the
// server as it arrives; after a cut the agent asks where the server
// stands and sends only the rest. A photo the server holds is never sent
// again. Thumbnails of the scope's reports are fetched after each sync;
// a full photo only when the volunteer opens it.

// photoChunk is the chunk this agent sends: a cut loses at most this much.
const photoChunk = 64 << 10

// PhotoSummary is what one photo transfer did.
type PhotoSummary struct {
	Uploaded int `json:"uploaded"` // photos the server now holds whole
	// Sent is the photo bytes the uploads put on the link (chunk headers
	// excluded, bytes a cut lost included); Skipped the bytes the server
	// held when the transfer began (a photo another device sent, an upload
	// an earlier sync began): never sent again.
	Sent    int64 `json:"sent"`
	Skipped int64 `json:"skipped"`
	// Wire is every byte of the transfer's connections, both ways.
	Wire int64 `json:"wire"`
	// Resumes are the uploads continued from where the server stood.
	Resumes []Resume `json:"resumes,omitempty"`
	Thumbs  int      `json:"thumbs"` // thumbnails fetched
	// Pending is photos still to send or fetch (the server refused, the
	// link failed, or no device has sent them yet).
	Pending int    `json:"pending"`
	Err     string `json:"error,omitempty"`
	err     error  // the first failure, said in a volunteer's language by Message
}

// Message says why photos wait, in the volunteer's language ("" when
// nothing failed).
func (s PhotoSummary) Message(lang string) string {
	if s.err != nil {
		return MessageOf(s.err, lang)
	}
	return s.Err
}

// photoClient is one transfer's HTTP client: the sync's dialer and
// deadlines, every byte counted.
type photoClient struct {
	r     *Replica
	base  string
	token string
	hc    *http.Client
	wire  atomic.Int64
	opts  *SyncOptions
}

func (r *Replica) photoClient(server, token string, opts *SyncOptions) (*photoClient, error) {
	u, err := NormalizeServerURL(server)
	if err != nil {
		return nil, err
	}
	pc := &photoClient{r: r, base: u.String(), token: token, opts: opts}
	nd := opts.Dial
	if nd == nil {
		d := &net.Dialer{Timeout: opts.IOTimeout, KeepAlive: 30 * time.Second}
		nd = d.DialContext
	}
	var sent, recv atomic.Int64
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := nd(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &deadlineConn{Conn: &countingConn{Conn: c, sent: &sent, recv: &recv}, d: opts.IOTimeout, total: &pc.wire}, nil
		},
		TLSClientConfig:       opts.TLS,
		Proxy:                 http.ProxyFromEnvironment,
		ResponseHeaderTimeout: opts.IOTimeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
	}
	pc.hc = &http.Client{Transport: tr}
	return pc, nil
}

func (pc *photoClient) close() { pc.hc.CloseIdleConnections() }

// deadlineConn gives every read and write its own deadline, so a stalled
// link fails the transfer instead of hanging it, and a slow one that
// still moves does not.
type deadlineConn struct {
	net.Conn
	d     time.Duration
	total *atomic.Int64
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.d))
	n, err := c.Conn.Read(p)
	c.total.Add(int64(n))
	return n, err
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.d))
	n, err := c.Conn.Write(p)
	c.total.Add(int64(n))
	return n, err
}

// uploadAnswer is the server's answer to both upload requests.
type uploadAnswer struct {
	Stored   int64 `json:"stored"`
	Complete bool  `json:"complete"`
	Chunk    int   `json:"chunk"`
	Error    *struct {
		Code    syncproto.Code `json:"code"`
		Message string         `json:"message"`
		Hint    string         `json:"hint"`
		HintEN  string         `json:"hint_en"`
	} `json:"error"`
}

func (pc *photoClient) do(ctx context.Context, method, path string, body io.Reader, size int64, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, pc.base+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
	}
	req.Header.Set("Authorization", "Bearer "+pc.token)
	req.Header.Set("User-Agent", ClientName())
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := pc.hc.Do(req)
	if err != nil {
		return nil, &ConnectError{URL: pc.base, Err: err}
	}
	return resp, nil
}

func readAnswer(resp *http.Response) (uploadAnswer, error) {
	defer resp.Body.Close()
	var a uploadAnswer
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return a, &ConnectError{Err: err}
	}
	if err := json.Unmarshal(data, &a); err != nil {
		return a, fmt.Errorf("photo upload: HTTP %d, not a Hamlet answer", resp.StatusCode)
	}
	if a.Error != nil {
		return a, &ServerError{Status: resp.StatusCode, Code: a.Error.Code, Msg: a.Error.Message, Hint: a.Error.Hint, HintEN: a.Error.HintEN}
	}
	if resp.StatusCode != http.StatusOK {
		return a, fmt.Errorf("photo upload: HTTP %d", resp.StatusCode)
	}
	return a, nil
}

// uploadState asks where the server stands with a photo.
func (pc *photoClient) uploadState(ctx context.Context, digest string) (uploadAnswer, error) {
	resp, err := pc.do(ctx, http.MethodGet, "/v1/photos/"+digest+"/upload", nil, 0, nil)
	if err != nil {
		return uploadAnswer{}, err
	}
	return readAnswer(resp)
}

// framed is the upload body from offset at: chunks of photoChunk bytes,
// each behind its length and SHA-256.
func framed(data []byte, at int64) []byte {
	var out []byte
	for p := at; p < int64(len(data)); p += photoChunk {
		c := data[p:min(int64(len(data)), p+photoChunk)]
		sum := sha256.Sum256(c)
		out = binary.BigEndian.AppendUint32(out, uint32(len(c)))
		out = append(out, sum[:]...)
		out = append(out, c...)
	}
	return out
}

// progressReader reports the photo bytes a body has handed to the link.
type progressReader struct {
	r    io.Reader
	read int64
	on   func(n int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read += int64(n)
	if p.on != nil && n > 0 {
		p.on(p.read)
	}
	return n, err
}

// Resume is an upload continued from where the server stood: From bytes
// were stored already (before a cut, or at an earlier sync), Sent is what
// the continuation put on the link.
type Resume struct {
	Digest string `json:"digest"`
	From   int64  `json:"from"`
	Sent   int64  `json:"sent"`
}

// upload sends one photo from where the server stands, resuming after a
// cut a few times. sent is the photo bytes its bodies put on the link
// (lost ones included), held what the server had before it began.
func (pc *photoClient) upload(ctx context.Context, digest string, data []byte, progress func(int64)) (sent, held int64, resumes []Resume, err error) {
	const attempts = 4
	var last error // the last attempt's failure: what the volunteer is told
	for attempt := 0; attempt < attempts; attempt++ {
		st, err := pc.uploadState(ctx, digest)
		if err != nil {
			last = err
			if retryablePhoto(err) && !serverSaysLater(err) && attempt+1 < attempts {
				if pc.opts.sleep(ctx, pc.opts.jitter(time.Duration(attempt+1)*300*time.Millisecond)) != nil {
					return sent, held, resumes, ctx.Err()
				}
				continue
			}
			return sent, held, resumes, err
		}
		if attempt == 0 {
			held = st.Stored
		}
		if st.Complete {
			return sent, held, resumes, nil
		}
		if st.Stored > int64(len(data)) {
			st.Stored = 0 // not this photo's bytes; the server drops them at the end
		}
		body := framed(data, st.Stored)
		base := st.Stored
		var put int64
		pr := &progressReader{r: bytes.NewReader(body), on: func(n int64) {
			// The framing is 36 bytes in every 64 KiB: count photo bytes.
			put = n * (int64(len(data)) - base) / int64(max(1, len(body)))
			if progress != nil {
				progress(base + put)
			}
		}}
		resp, err := pc.do(ctx, http.MethodPut, "/v1/photos/"+digest, pr, int64(len(body)),
			map[string]string{"Upload-Length": strconv.Itoa(len(data)), "Upload-Offset": strconv.FormatInt(base, 10),
				"Content-Type": "application/octet-stream"})
		complete := false
		if err == nil {
			var a uploadAnswer
			a, err = readAnswer(resp)
			if err == nil && a.Complete {
				put, complete = int64(len(data))-base, true
			}
		}
		sent += put
		if base > 0 {
			resumes = append(resumes, Resume{Digest: digest, From: base, Sent: put})
		}
		if complete {
			return sent, held, resumes, nil
		}
		if err == nil {
			after, serr := pc.uploadState(ctx, digest)
			if serr == nil && after.Complete {
				return sent, held, resumes, nil
			}
			if serr != nil {
				err = serr
			}
		}
		if err != nil && (!retryablePhoto(err) || serverSaysLater(err)) {
			return sent, held, resumes, err
		}
		if err != nil {
			last = err
		}
		if pc.opts.sleep(ctx, pc.opts.jitter(time.Duration(attempt+1)*300*time.Millisecond)) != nil {
			return sent, held, resumes, ctx.Err()
		}
	}
	if last != nil {
		return sent, held, resumes, last
	}
	return sent, held, resumes, fmt.Errorf("photo upload: the link kept failing after %d attempts", attempts)
}

// serverSaysLater: the server answered that it cannot take photos now (it
// cannot store, is busy or is stopping). Trying again at once, or sending
// the next photo, would put the same bytes on the volunteer's link to be
// refused the same way: the photos wait for the next sync.
func serverSaysLater(err error) bool {
	var se *ServerError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case syncproto.CodeUnavailable, syncproto.CodeBusy, syncproto.CodeShuttingDown:
		return true
	}
	return false
}

// notThisLaptops: the server refused a photo upload because no report it
// holds names the photo, or none this laptop's replica wrote does. Any
// other failure (a proxy's 502, a server error) says nothing of whose the
// photo is.
func notThisLaptops(err error) bool {
	var se *ServerError
	return errors.As(err, &se) && (se.Code == syncproto.CodePhotoUnreferenced || se.Code == syncproto.CodeOutOfScope)
}

// retryablePhoto: worth another request now (a cut, a server that asks to
// resume elsewhere), as opposed to a refusal.
func retryablePhoto(err error) bool {
	var se *ServerError
	if errors.As(err, &se) {
		switch se.Code {
		case syncproto.CodeUploadOffset, syncproto.CodeTruncated, syncproto.CodeChunkDigest:
			return true
		}
		return se.Code.Retryable()
	}
	var ce *ConnectError
	return errors.As(err, &ce) || errors.Is(err, io.ErrUnexpectedEOF)
}

// fetch downloads a photo or thumbnail; ok is false when the server has
// none yet (photo_missing).
func (pc *photoClient) fetch(ctx context.Context, digest string, thumb bool) (b []byte, ok bool, err error) {
	path := "/v1/photos/" + digest
	if thumb {
		path += "/thumb"
	}
	resp, err := pc.do(ctx, http.MethodGet, path, nil, 0, nil)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		se := parseErrorBody(resp.StatusCode, data)
		if se != nil && se.Code == syncproto.CodePhotoMissing {
			return nil, false, nil
		}
		if se != nil {
			return nil, false, se
		}
		return nil, false, fmt.Errorf("photo: HTTP %d", resp.StatusCode)
	}
	b, err = io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, false, &ConnectError{URL: pc.base, Err: err}
	}
	// Never keep what is not the photo asked for: a full photo is its
	// digest, a thumbnail at least a JPEG.
	if !thumb && photo.Digest(b) != digest {
		return nil, false, fmt.Errorf("photo: the server sent %d bytes that are not the photo asked for", len(b))
	}
	if thumb && photo.Sniff(b) != photo.FormatJPEG {
		return nil, false, errors.New("photo: the server's thumbnail is not a JPEG")
	}
	return b, true, nil
}

// namedBy chooses the reports whose photos reportDigests lists.
type namedBy int

const (
	namedLive namedBy = iota // every live report
	// namedHeld: only those whose naming the server holds (no change of
	// the report's photo_digests waits in the outbox, nor was refused):
	// the server takes a photo only once a report names it, so the record
	// goes first.
	namedHeld
	// namedUnrefused: all but those whose naming the server refused:
	// nothing sends their photos until the refusal is dealt with.
	namedUnrefused
)

// reportDigests is every photo the replica's live reports name, as which
// chooses.
func (r *Replica) reportDigests(ctx context.Context, which namedBy) ([]string, error) {
	if _, ok := r.sch.Table("field_reports"); !ok {
		return nil, nil
	}
	if !r.hasColumn("field_reports", schema.PhotoDigestsField) {
		return nil, nil // an agent at an older schema carries no photos
	}
	q := `SELECT photo_digests FROM field_reports WHERE photo_digests IS NOT NULL AND NOT _deleted`
	switch which {
	case namedHeld:
		q += ` AND id NOT IN (SELECT row_id FROM outbox WHERE tbl = 'field_reports' AND field = '` + schema.PhotoDigestsField + `'
			UNION SELECT row_id FROM outbox_rows WHERE tbl = 'field_reports')`
	case namedUnrefused:
		q += ` AND id NOT IN (SELECT row_id FROM outbox WHERE tbl = 'field_reports' AND field = '` + schema.PhotoDigestsField + `' AND state = ` + fmt.Sprint(outboxRejected) + `)`
	}
	rows, err := r.db.QueryContext(ctx, q)
	if err != nil {
		return nil, r.Classify(fmt.Errorf("read report photos: %w", err))
	}
	defer rows.Close()
	seen := map[string]bool{}
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		for _, d := range schema.PhotoDigests(v) {
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	return out, rows.Err()
}

// photoWork is what a transfer has to do.
type photoWork struct {
	uploads []string // digests here in full, not confirmed by the server
	thumbs  []string // digests named by reports, with neither file here
	// away are the uploads whose report is no longer on this laptop (its
	// hamlet left the scope): digest -> report id ("" when unknown: a
	// photo adoptOrphanPhotos noted).
	away map[string]string
}

// awayPhotos lists the photos taken here that the server has not
// confirmed and whose report a pull dropped from the laptop (photos.away),
// when the server holds the report's naming of them (its list named them
// at the drop: away_held; or no write of the list waits in the outbox,
// nor was refused): digest -> report. Their report's hamlet left the
// scope (or a teammate deleted it, and another team may restore it); the
// server still takes them from this device, and nobody else has them. The report is "" for a photo that an
// agent built before photos.away left named by nothing (adoptOrphanPhotos).
func (r *Replica) awayPhotos(ctx context.Context) (map[string]string, error) {
	if _, ok := r.sch.Table("field_reports"); !ok || !r.hasColumn("field_reports", schema.PhotoDigestsField) {
		return nil, nil
	}
	rows, err := r.db.QueryContext(ctx, `SELECT digest, away FROM photos WHERE away IS NOT NULL AND full = 1 AND uploaded = 0
		AND away NOT IN (SELECT id FROM field_reports)
		AND (away_held OR away NOT IN (SELECT row_id FROM outbox WHERE tbl = 'field_reports' AND field = '`+schema.PhotoDigestsField+`'
			UNION SELECT row_id FROM outbox_rows WHERE tbl = 'field_reports'))`)
	if err != nil {
		return nil, r.Classify(fmt.Errorf("read the photos of dropped reports: %w", err))
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var d, rep string
		if err := rows.Scan(&d, &rep); err != nil {
			return nil, err
		}
		if r.HasPhoto(d, false) {
			out[d] = rep
		}
	}
	return out, rows.Err()
}

func (r *Replica) photoWork(ctx context.Context) (photoWork, error) {
	away, err := r.awayPhotos(ctx)
	if err != nil {
		return photoWork{}, err
	}
	w, err := r.reportWork(ctx)
	if err != nil {
		return w, err
	}
	// A photo of a report no longer here waits for the server all the
	// same, unless a report here names it (then it goes as theirs).
	for _, d := range slices.Sorted(maps.Keys(away)) {
		if !slices.Contains(w.uploads, d) && !slices.Contains(w.thumbs, d) {
			w.uploads = append(w.uploads, d)
			if w.away == nil {
				w.away = map[string]string{}
			}
			w.away[d] = away[d]
		}
	}
	return w, nil
}

// reportWork is photoWork for the photos the live reports name.
func (r *Replica) reportWork(ctx context.Context) (w photoWork, err error) {
	ds, err := r.reportDigests(ctx, namedLive)
	if err != nil || len(ds) == 0 {
		return w, err
	}
	heldList, err := r.reportDigests(ctx, namedHeld)
	if err != nil {
		return w, err
	}
	held := map[string]bool{}
	for _, d := range heldList {
		held[d] = true
	}
	uploaded := map[string]bool{}
	rows, err := r.db.QueryContext(ctx, `SELECT digest FROM photos WHERE uploaded = 1`)
	if err != nil {
		return w, r.Classify(err)
	}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return w, err
		}
		uploaded[d] = true
	}
	rows.Close()
	for _, d := range ds {
		switch {
		case r.HasPhoto(d, false):
			if !uploaded[d] && held[d] {
				w.uploads = append(w.uploads, d)
			}
		case !r.HasPhoto(d, true):
			w.thumbs = append(w.thumbs, d)
		}
	}
	return w, nil
}

// PhotosPending is how many photos this laptop still has to send, and
// thumbnails it still has to fetch.
func (r *Replica) PhotosPending(ctx context.Context) (uploads, thumbs int, err error) {
	w, err := r.photoWork(ctx)
	return len(w.uploads), len(w.thumbs), err
}

// PhotosUnsent is how many photos this laptop holds that the server has
// not yet confirmed: those of its live reports (a photo whose report has
// not reached the server yet included, not one whose naming the server
// refused: nothing sends it until the refusal is dealt with) and those of
// reports a pull took off the laptop (awayPhotos). It is what the
// volunteer is told waits, on the app's pages and in a revoked laptop's
// message. The cheap question goes first: most of the time every photo
// here is sent and no report is read.
func (r *Replica) PhotosUnsent(ctx context.Context) (int, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT digest FROM photos WHERE full = 1 AND uploaded = 0`)
	if err != nil {
		return 0, r.Classify(err)
	}
	var here []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return 0, err
		}
		here = append(here, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(here) == 0 {
		return 0, err
	}
	named, err := r.reportDigests(ctx, namedUnrefused)
	if err != nil {
		return 0, err
	}
	away, err := r.awayPhotos(ctx)
	if err != nil {
		return 0, err
	}
	live := make(map[string]bool, len(named))
	for _, d := range named {
		live[d] = true
	}
	n := 0
	for _, d := range here {
		if _, gone := away[d]; (live[d] || gone) && r.HasPhoto(d, false) {
			n++
		}
	}
	return n, nil
}

// SyncPhotos sends the photos the server lacks and fetches the thumbnails
// of the scope's reports. Records go first: callers run it after a sync's
// session (Sync), or beside it (Watch), never before. opts.Progress hears
// Phase "photos" with Done and Total in bytes.
func (r *Replica) SyncPhotos(ctx context.Context, server, token string, opts SyncOptions) (sum PhotoSummary, err error) {
	opts.defaults()
	w, err := r.photoWork(ctx)
	if err != nil || len(w.uploads)+len(w.thumbs) == 0 {
		return sum, err
	}
	pc, err := r.photoClient(server, token, &opts)
	if err != nil {
		return sum, err
	}
	defer pc.close()
	defer func() { sum.Wire = pc.wire.Load() }()

	var total, done int64
	datas := make([][]byte, len(w.uploads))
	for i, d := range w.uploads {
		b, err := os.ReadFile(r.PhotoPath(d, false))
		if err != nil || photo.Digest(b) != d {
			continue // damaged on disk: never send what is not the photo
		}
		datas[i] = b
		total += int64(len(b))
	}
	var firstErr error
	later := false // the server said it cannot take photos now
	for i, d := range w.uploads {
		if datas[i] == nil || later {
			sum.Pending++
			continue
		}
		sent, held, resumes, err := pc.upload(ctx, d, datas[i], func(n int64) {
			if opts.Progress != nil {
				opts.Progress(Progress{Phase: "photos", Done: int(done + n), Total: int(total)})
			}
		})
		sum.Sent += sent
		sum.Skipped += held
		sum.Resumes = append(sum.Resumes, resumes...)
		done += int64(len(datas[i]))
		if rep, ok := w.away[d]; ok && rep == "" && notThisLaptops(err) {
			// A photo no report here names (adoptOrphanPhotos, a repair),
			// that the server says is not this laptop's: no report names
			// it (its report was removed here before it ever synced), or
			// one does that this laptop did not write (a teammate's photo
			// it had fetched, helper 142). It is no longer offered nor
			// counted, and nothing is said. Any other failure keeps it
			// waiting (helper 143).
			if _, err := r.writer().ExecContext(ctx, `UPDATE photos SET away = NULL WHERE digest = ? AND away = ''`, d); err != nil {
				return sum, r.Classify(err)
			}
			continue
		}
		if err != nil {
			sum.Pending++
			if rep, ok := w.away[d]; ok && !retryablePhoto(err) && ctx.Err() == nil {
				// Refused for good (the report was deleted, or another
				// device's write names it now): the volunteer is told,
				// first, and the photo stays here.
				err = &AwayPhotoError{Digest: d, Report: rep, Path: r.PhotoPath(d, false), Err: err}
				var ae *AwayPhotoError
				if !errors.As(firstErr, &ae) {
					firstErr = nil
				}
			}
			if firstErr == nil {
				firstErr = err
			}
			if ctx.Err() != nil {
				return sum, ctx.Err()
			}
			later = serverSaysLater(err)
			continue
		}
		sum.Uploaded++
		if _, err := r.writer().ExecContext(ctx, `INSERT INTO photos (digest, size, full, uploaded, added_at) VALUES (?, ?, 1, 1, ?)
			ON CONFLICT (digest) DO UPDATE SET uploaded = 1`, d, len(datas[i]), r.now().UnixMilli()); err != nil {
			return sum, r.Classify(err)
		}
		if opts.Progress != nil {
			opts.Progress(Progress{Phase: "photos", Done: int(done), Total: int(total)})
		}
	}
	for _, d := range w.thumbs {
		b, ok, err := pc.fetch(ctx, d, true)
		if err != nil || !ok {
			sum.Pending++
			if err != nil && firstErr == nil {
				firstErr = err
			}
			continue
		}
		if err := r.keepFetched(ctx, d, b, true); err != nil {
			return sum, err
		}
		sum.Thumbs++
	}
	if firstErr != nil {
		sum.Err, sum.err = firstErr.Error(), firstErr
	}
	return sum, firstErr
}

func (r *Replica) keepFetched(ctx context.Context, digest string, b []byte, thumb bool) error {
	if err := writeFileSynced(r.PhotoPath(digest, thumb), b); err != nil {
		return r.Classify(fmt.Errorf("keep photo: %w", err))
	}
	col := "full"
	if thumb {
		col = "thumb"
	}
	size := len(b) // the photo's size, not its thumbnail's
	if thumb {
		size = 0
	}
	// A full photo fetched from the server is the server's: uploaded.
	_, err := r.writer().ExecContext(ctx, `INSERT INTO photos (digest, size, `+col+`, uploaded, added_at) VALUES (?, ?, 1, ?, ?)
		ON CONFLICT (digest) DO UPDATE SET `+col+` = 1, uploaded = MAX(uploaded, excluded.uploaded), size = MAX(size, excluded.size)`,
		digest, size, boolInt(!thumb), r.now().UnixMilli())
	return r.Classify(err)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FetchPhoto returns a report's full photo: from the data folder, or from
// the server when the volunteer opens it for the first time (then kept).
// ok is false when the server has none yet either.
func (r *Replica) FetchPhoto(ctx context.Context, server, token, digest string, opts SyncOptions) (b []byte, ok bool, err error) {
	if !photo.ValidDigest(digest) {
		return nil, false, &InputError{VI: "Mã ảnh không hợp lệ.", EN: "Not a photo id.", Detail: "photo id: not a SHA-256 digest"}
	}
	if b, err := os.ReadFile(r.PhotoPath(digest, false)); err == nil {
		return b, true, nil
	}
	opts.defaults()
	pc, err := r.photoClient(server, token, &opts)
	if err != nil {
		return nil, false, err
	}
	defer pc.close()
	b, ok, err = pc.fetch(ctx, digest, false)
	if err != nil || !ok {
		return nil, ok, err
	}
	return b, true, r.keepFetched(ctx, digest, b, false)
}

// AwayPhotoError: the server refuses, for good, a photo taken on this
// laptop whose report is no longer on it (its hamlet left the team). The
// photo exists only here; it is kept, and offered again at every sync.
type AwayPhotoError struct {
	Digest string
	Report string // the report's id
	Path   string // where the photo is kept
	Err    error  // the server's refusal
}

func (e *AwayPhotoError) Error() string { return e.Message("en") }
func (e *AwayPhotoError) Unwrap() error { return e.Err }

// Message says it in the volunteer's language. The server's own hint is
// not repeated: it speaks to a laptop that holds the report ("sync again
// so the report goes first"), and this one no longer does.
// Why the server refuses is said by its code: a report outside the
// team's hamlets that others wrote over since (out_of_scope) is not one
// whose list no longer names the photo (helper 295: the list still named
// it, and the volunteer was told it did not).
func (e *AwayPhotoError) Message(lang string) string {
	var se *ServerError
	if errors.As(e.Err, &se) && se.Code == syncproto.CodeOutOfScope {
		return pick(lang,
			fmt.Sprintf("Máy chủ không còn nhận ảnh của phản ánh %s từ máy này: phản ánh nay thuộc ấp ngoài địa bàn của tổ, và người khác đã sửa nó từ đó. Ảnh chỉ có trên máy này, tại %s. Đừng xóa ảnh; hãy báo cán bộ CNTT để họ gửi ảnh cho tổ đang phụ trách ấp đó.", e.Report, e.Path),
			fmt.Sprintf("The server no longer takes the photo of report %s from this laptop: the report is now in a hamlet outside your team's, and others have written to it since. The photo exists only on this laptop, at %s. Do not delete it; tell IT staff, so they can pass it to the team that covers that hamlet.", e.Report, e.Path))
	}
	return pick(lang,
		fmt.Sprintf("Máy chủ không còn nhận ảnh của phản ánh %s (phản ánh này không còn trên máy): phản ánh đã bị xóa, hoặc danh sách ảnh của nó đã được sửa và không còn ảnh này. Ảnh chỉ có trên máy này, tại %s. Đừng xóa ảnh; hãy báo cán bộ CNTT.", e.Report, e.Path),
		fmt.Sprintf("The server no longer takes the photo of report %s (the report is no longer on this laptop): the report was deleted, or its list of photos was changed and no longer names this one. The photo exists only on this laptop, at %s. Do not delete it; tell IT staff.", e.Report, e.Path))
}

// photoLoop is Watch's photo transfer: every poll it looks for photos to
// send or thumbnails to fetch, and runs a transfer when there are; after a
// failure it waits longer, up to MaxBackoff. It never touches the
// records' session.
func (r *Replica) photoLoop(ctx context.Context, server string, token *atomic.Pointer[string], opts SyncOptions) {
	wait := opts.PollInterval
	for {
		if opts.sleep(ctx, wait) != nil {
			return
		}
		up, th, err := r.PhotosPending(ctx)
		if err != nil || up+th == 0 {
			wait = opts.PollInterval
			continue
		}
		ps, err := r.SyncPhotos(ctx, server, *token.Load(), opts)
		if ctx.Err() != nil {
			return
		}
		if opts.OnPhotos != nil {
			opts.OnPhotos(ps, err)
		}
		if err != nil {
			wait = min(max(wait*2, opts.MinBackoff), opts.MaxBackoff)
			continue
		}
		wait = opts.PollInterval
	}
}
