package agent

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"regexp"

	"github.com/google/uuid"
)

// Reading a damaged file page by page, without SQLite. When the damage
// hits the file's schema (page 1, or a page of sqlite_schema: page 1 is
// the one SQLite writes most), SQLite cannot find any table, and every
// query fails though nearly every page is intact. rawRecords reads each
// page as a b-tree page (docs: sqlite.org/fileformat2.html), decodes the
// records of its cells, and keeps those shaped like rows of agent_meta,
// row_state, outbox and conflicts. It reads the pages as the last commit
// left them: the file, then the frames of its write-ahead log up to the
// last commit. Pages on the free list are skipped (they may hold rows
// that were deleted).
//
// The input is a damaged file: every length and offset is checked, and
// no input makes it panic or loop (FuzzRawRecords).

// rawRows are the rows read page by page.
type rawRows struct {
	meta      map[string]any
	states    [][]any // id, tbl, scope, state
	outbox    [][]any // the columns of the outbox in declaration order; seq from the rowid
	conflicts [][]any
	// rows are records of rowid tables keyed by a row id in their first
	// column (the row tables'), by that id: the current values of the
	// row states that keep them there (state_values.go).
	rows map[string][]any
}

// outboxBase and conflictsBase are the columns of the agent's first
// migration, in declaration order: a record holds its fields in this
// order (later columns, added at the end, may follow: an outbox record
// may then be as long as a conflict, told apart by their types).
var (
	outboxBase    = []string{"seq", "tbl", "row_id", "field", "kind", "value", "hlc", "base_replica", "base_seq", "scope", "state", "code", "reason", "created_at"}
	conflictsBase = []string{"id", "tbl", "row_id", "field", "scope", "loser_kind", "loser_value", "loser_hlc", "loser_replica", "loser_seq",
		"winner_kind", "winner_value", "winner_hlc", "winner_replica", "winner_seq", "detected_at", "restored_at"}
	metaKey = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

const (
	walMagicLE = 0x377f0682
	walMagicBE = 0x377f0683
	// maxRawPages bounds what is read (a file of 4 GiB at 4 KiB pages).
	maxRawPages = 1 << 20
)

// rawRecords reads the rows of file (and file-wal) page by page.
func rawRecords(file string) (*rawRows, error) {
	main, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	wal, err := os.ReadFile(file + "-wal")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return rawRecordsOf(main, wal), nil
}

// rawRecordsOf is rawRecords on the bytes of a file and its log.
func rawRecordsOf(main, wal []byte) *rawRows {
	size := pageSizeOf(main, wal)
	pages := map[uint32][]byte{}
	for i := 0; (i+1)*size <= len(main) && i < maxRawPages; i++ {
		pages[uint32(i+1)] = main[i*size : (i+1)*size]
	}
	for pgno, p := range walPages(wal, size) {
		pages[pgno] = p
	}
	free := freePages(pages, size)
	out := &rawRows{meta: map[string]any{}}
	usable := size
	if p1 := pages[1]; len(p1) >= 100 && string(p1[:16]) == "SQLite format 3\x00" {
		usable = size - int(p1[20])
	}
	// A sound file's records hold fewer bytes than the file: assembling
	// more means cells point at each other's overflow pages over and over.
	bt := &btree{pages: pages, usable: usable, budget: 2 * (len(main) + len(wal))}
	for pgno, p := range pages {
		if free[pgno] {
			continue
		}
		bt.page(pgno, p, out)
	}
	return out
}

// pageSizeOf reads the page size from the file's header, else from the
// log's, else takes SQLite's default.
func pageSizeOf(main, wal []byte) int {
	valid := func(n int) bool { return n >= 512 && n <= 65536 && n&(n-1) == 0 }
	if len(main) >= 100 && string(main[:16]) == "SQLite format 3\x00" {
		n := int(binary.BigEndian.Uint16(main[16:18]))
		if n == 1 {
			n = 65536
		}
		if valid(n) {
			return n
		}
	}
	if len(wal) >= 32 {
		if m := binary.BigEndian.Uint32(wal); m == walMagicLE || m == walMagicBE {
			if n := int(binary.BigEndian.Uint32(wal[8:12])); valid(n) {
				return n
			}
		}
	}
	return 4096
}

// walPages are the pages of the log's frames up to its last valid commit
// (later frames of a page win).
func walPages(wal []byte, size int) map[uint32][]byte {
	out := map[uint32][]byte{}
	if len(wal) < 32 {
		return out
	}
	magic := binary.BigEndian.Uint32(wal)
	if magic != walMagicLE && magic != walMagicBE || int(binary.BigEndian.Uint32(wal[8:12])) != size {
		return out
	}
	var order binary.ByteOrder = binary.LittleEndian
	if magic == walMagicBE {
		order = binary.BigEndian
	}
	sum := func(s0, s1 uint32, b []byte) (uint32, uint32) {
		for i := 0; i+8 <= len(b); i += 8 {
			s0 += order.Uint32(b[i:]) + s1
			s1 += order.Uint32(b[i+4:]) + s0
		}
		return s0, s1
	}
	s0, s1 := sum(0, 0, wal[:24])
	if s0 != binary.BigEndian.Uint32(wal[24:]) || s1 != binary.BigEndian.Uint32(wal[28:]) {
		return out
	}
	salt := wal[16:24]
	pending := map[uint32][]byte{}
	for off := 32; off+24+size <= len(wal); off += 24 + size {
		h := wal[off : off+24]
		if string(h[8:16]) != string(salt) {
			break
		}
		s0, s1 = sum(s0, s1, h[:8])
		s0, s1 = sum(s0, s1, wal[off+24:off+24+size])
		if s0 != binary.BigEndian.Uint32(h[16:]) || s1 != binary.BigEndian.Uint32(h[20:]) {
			break
		}
		pending[binary.BigEndian.Uint32(h)] = wal[off+24 : off+24+size]
		if binary.BigEndian.Uint32(h[4:]) != 0 { // a commit frame
			for k, v := range pending {
				out[k] = v
			}
			clear(pending)
		}
	}
	return out
}

// freePages are the pages on the file's free list.
func freePages(pages map[uint32][]byte, size int) map[uint32]bool {
	free := map[uint32]bool{}
	p1 := pages[1]
	if len(p1) < 100 || string(p1[:16]) != "SQLite format 3\x00" {
		return free
	}
	trunk := binary.BigEndian.Uint32(p1[32:])
	for trunk != 0 && !free[trunk] && len(free) < len(pages) {
		p := pages[trunk]
		if len(p) < 8 {
			break
		}
		free[trunk] = true
		n := int(binary.BigEndian.Uint32(p[4:]))
		for i := 0; i < n && 8+4*i+4 <= len(p); i++ {
			free[binary.BigEndian.Uint32(p[8+4*i:])] = true
		}
		trunk = binary.BigEndian.Uint32(p)
	}
	return free
}

// btree decodes b-tree pages.
type btree struct {
	pages  map[uint32][]byte
	usable int
	budget int // payload bytes still to assemble
}

const (
	pageIndexInterior = 0x02
	pageTableInterior = 0x05
	pageIndexLeaf     = 0x0a
	pageTableLeaf     = 0x0d
)

// page decodes the cells of one page and keeps the records shaped like
// the agent's rows.
func (bt *btree) page(pgno uint32, p []byte, out *rawRows) {
	h := 0
	if pgno == 1 {
		h = 100
	}
	if len(p) < h+12 {
		return
	}
	typ := p[h]
	var ptrs int
	switch typ {
	case pageTableLeaf, pageIndexLeaf:
		ptrs = h + 8
	case pageIndexInterior:
		ptrs = h + 12
	default:
		return // interior table pages hold no records; anything else is not a b-tree page
	}
	n := int(binary.BigEndian.Uint16(p[h+3:]))
	for i := 0; i < n && ptrs+2*i+2 <= len(p); i++ {
		off := int(binary.BigEndian.Uint16(p[ptrs+2*i:]))
		if off < ptrs+2*n || off >= len(p) {
			continue
		}
		c := p[off:]
		if typ == pageIndexInterior {
			if len(c) < 4 {
				continue
			}
			c = c[4:]
		}
		size, k := uvarint(c)
		if k == 0 || size > 1<<30 {
			continue
		}
		c = c[k:]
		var rowid int64
		if typ == pageTableLeaf {
			r, k := uvarint(c)
			if k == 0 {
				continue
			}
			rowid, c = int64(r), c[k:]
		}
		payload, ok := bt.payload(c, int(size), typ == pageTableLeaf)
		if !ok {
			continue
		}
		rec, ok := decodeRecord(payload)
		if !ok {
			continue
		}
		if typ == pageTableLeaf {
			out.tableRecord(rowid, rec)
		} else {
			out.indexRecord(rec)
		}
	}
}

// payload gathers a cell's payload: its local part, then its overflow
// pages.
func (bt *btree) payload(c []byte, size int, table bool) ([]byte, bool) {
	u := bt.usable
	if u < 480 {
		return nil, false
	}
	x := u - 35
	if !table {
		x = (u-12)*64/255 - 23
	}
	if size > len(bt.pages)*u || size > bt.budget {
		return nil, false // more than the whole file holds
	}
	bt.budget -= size
	local := size
	if size > x {
		m := (u-12)*32/255 - 23
		local = m + (size-m)%(u-4)
		if local > x {
			local = m
		}
	}
	if local > len(c) {
		return nil, false
	}
	out := append([]byte(nil), c[:local]...)
	if local == size {
		return out, true
	}
	if local+4 > len(c) {
		return nil, false
	}
	next := binary.BigEndian.Uint32(c[local:])
	seen := map[uint32]bool{}
	for len(out) < size {
		p := bt.pages[next]
		if next == 0 || seen[next] || len(p) < 4 || len(p) < u {
			return nil, false
		}
		seen[next] = true
		take := min(size-len(out), u-4)
		out = append(out, p[4:4+take]...)
		next = binary.BigEndian.Uint32(p)
	}
	return out, true
}

// uvarint reads SQLite's big-endian varint; n is 0 when b is too short.
func uvarint(b []byte) (v uint64, n int) {
	for i := 0; i < 9; i++ {
		if i >= len(b) {
			return 0, 0
		}
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// decodeRecord decodes SQLite's record format: a header of serial types,
// then the values.
func decodeRecord(b []byte) ([]any, bool) {
	hsize, k := uvarint(b)
	if k == 0 || hsize > uint64(len(b)) || int(hsize) < k {
		return nil, false
	}
	hdr := b[k:hsize]
	body := b[hsize:]
	var out []any
	for len(hdr) > 0 {
		t, k := uvarint(hdr)
		if k == 0 {
			return nil, false
		}
		hdr = hdr[k:]
		var n int
		switch {
		case t == 0, t == 8, t == 9:
			n = 0
		case t >= 1 && t <= 4:
			n = int(t)
		case t == 5:
			n = 6
		case t == 6, t == 7:
			n = 8
		case t >= 12:
			if (t-12)/2 > uint64(len(body)) {
				return nil, false
			}
			n = int((t - 12) / 2)
		default:
			return nil, false
		}
		if n > len(body) {
			return nil, false
		}
		v := body[:n]
		body = body[n:]
		switch {
		case t == 0:
			out = append(out, nil)
		case t == 8:
			out = append(out, int64(0))
		case t == 9:
			out = append(out, int64(1))
		case t <= 6:
			var x int64
			for _, c := range v {
				x = x<<8 | int64(c)
			}
			if shift := 64 - 8*uint(n); shift > 0 {
				x = x << shift >> shift // sign-extend
			}
			out = append(out, x)
		case t == 7:
			out = append(out, math.Float64frombits(binary.BigEndian.Uint64(v)))
		case t%2 == 0:
			out = append(out, append([]byte(nil), v...))
		default:
			out = append(out, string(v))
		}
	}
	return out, true
}

func isUUIDText(v any) bool {
	s, ok := v.(string)
	if !ok || len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

func isText(v any) bool  { s, ok := v.(string); return ok && s != "" }
func isInt(v any) bool   { _, ok := v.(int64); return ok }
func isBlob(v any) bool  { _, ok := v.([]byte); return ok }
func isDot(v any) bool   { b, ok := v.([]byte); return ok && len(b) == 16 }
func isState(v any) bool { n, ok := v.(int64); return ok && n >= outboxPending && n <= outboxRejected }

// tableRecord keeps a rowid table's record shaped like an outbox entry or
// a conflict (their integer primary key is the rowid; the record holds
// NULL in its place).
func (out *rawRows) tableRecord(rowid int64, r []any) {
	switch {
	// Later columns may follow an outbox entry's (outbox_clock): its
	// base_seq, an integer where a conflict holds a dot, tells them apart.
	case len(r) >= len(outboxBase) && r[0] == nil &&
		isText(r[1]) && isUUIDText(r[2]) && isText(r[3]) && isInt(r[4]) && isInt(r[6]) &&
		(r[7] == nil || isDot(r[7])) && isInt(r[8]) && isText(r[9]) && isState(r[10]):
		r[0] = rowid
		out.outbox = append(out.outbox, r)
	case len(r) >= len(conflictsBase) && r[0] == nil && isText(r[1]) && isUUIDText(r[2]) && isText(r[3]) && isText(r[4]) &&
		isInt(r[5]) && isInt(r[7]) && isDot(r[8]) && isInt(r[9]) && isInt(r[10]) && isInt(r[12]) && isDot(r[13]) && isInt(r[14]):
		r[0] = rowid
		out.conflicts = append(out.conflicts, r)
	case len(r) >= 2 && isUUIDText(r[0]):
		if out.rows == nil {
			out.rows = map[string][]any{}
		}
		out.rows[r[0].(string)] = r
	}
}

// indexRecord keeps a record of an index b-tree (a WITHOUT ROWID table's)
// shaped like a row state or a setting.
func (out *rawRows) indexRecord(r []any) {
	switch {
	case len(r) == 4 && isUUIDText(r[0]) && isText(r[1]) && isText(r[2]) && isBlob(r[3]):
		out.states = append(out.states, r)
	case len(r) == 5 && isUUIDText(r[0]) && isText(r[1]) && isText(r[2]) && isBlob(r[4]):
		// Before agent migration 8 a state held its search text (folded).
		out.states = append(out.states, []any{r[0], r[1], r[2], r[4]})
	case len(r) == 2:
		if k, ok := r[0].(string); ok && metaKey.MatchString(k) {
			out.meta[k] = r[1]
		}
	}
}
