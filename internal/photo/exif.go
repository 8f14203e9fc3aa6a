package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
)

// Meta is what Hamlet reads of a photo's EXIF: where it was taken and how
// the camera was held. Everything else (camera, owner, time, thumbnails)
// is dropped with the re-encoding.
type Meta struct {
	// GPS is the position the camera recorded, nil when it has none (or
	// one that cannot be a place on Earth).
	GPS *GPS
	// Orientation is EXIF tag 0x0112 (1 to 8; 1 or 0 = upright as stored).
	Orientation int
}

// GPS is a position in decimal degrees (WGS 84, as EXIF records it).
type GPS struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

var errEXIF = errors.New("photo: malformed EXIF")

// A minimal EXIF reader, rather than a library: Hamlet needs three tags
// (orientation, and the GPS latitude and longitude with their
// hemispheres), the listed EXIF libraries bring far more code than that
// (and their own logging and error stacks) to parse untrusted bytes, and
// these few rules are easy to bound. Every offset is checked against the
// blob before it is read; FuzzParseEXIF holds it to that.

const (
	tagOrientation = 0x0112
	tagGPSIFD      = 0x8825
	tagGPSLatRef   = 0x0001
	tagGPSLat      = 0x0002
	tagGPSLngRef   = 0x0003
	tagGPSLng      = 0x0004

	typeASCII    = 2
	typeShort    = 3
	typeLong     = 4
	typeRational = 5

	// maxEntries bounds an IFD: real ones hold a few dozen tags, and a
	// forged count must not make the reader loop for long.
	maxEntries = 512
)

// ParseEXIF reads Meta from a TIFF-structured EXIF blob (what follows
// "Exif\0\0" in a JPEG's APP1 segment, a PNG's eXIf chunk, a WebP's EXIF
// chunk). A blob it cannot read gives an error and an empty Meta; a photo
// with a bad EXIF is still a photo.
func ParseEXIF(b []byte) (Meta, error) {
	var m Meta
	if len(b) < 8 {
		return m, errEXIF
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return m, errEXIF
	}
	if bo.Uint16(b[2:]) != 42 {
		return m, errEXIF
	}
	t := tiff{b: b, bo: bo}
	ifd0, err := t.entries(bo.Uint32(b[4:]))
	if err != nil {
		return m, err
	}
	for _, e := range ifd0 {
		switch e.tag {
		case tagOrientation:
			if v, ok := t.short(e); ok && v >= 1 && v <= 8 {
				m.Orientation = int(v)
			}
		case tagGPSIFD:
			off, ok := t.long(e)
			if !ok {
				continue
			}
			gps, err := t.entries(off)
			if err != nil {
				continue // the orientation still counts
			}
			m.GPS = t.gps(gps)
		}
	}
	return m, nil
}

type tiff struct {
	b  []byte
	bo binary.ByteOrder
}

type entry struct {
	tag, typ uint16
	count    uint32
	value    [4]byte // the value itself when it fits, else its offset
}

func (t tiff) entries(off uint32) ([]entry, error) {
	if uint64(off)+2 > uint64(len(t.b)) {
		return nil, errEXIF
	}
	n := int(t.bo.Uint16(t.b[off:]))
	if n > maxEntries || uint64(off)+2+uint64(n)*12 > uint64(len(t.b)) {
		return nil, errEXIF
	}
	out := make([]entry, n)
	p := t.b[off+2:]
	for i := range out {
		e := p[i*12:]
		out[i] = entry{tag: t.bo.Uint16(e), typ: t.bo.Uint16(e[2:]), count: t.bo.Uint32(e[4:])}
		copy(out[i].value[:], e[8:12])
	}
	return out, nil
}

func (t tiff) short(e entry) (uint16, bool) {
	if e.typ != typeShort || e.count < 1 {
		return 0, false
	}
	return t.bo.Uint16(e.value[:]), true
}

func (t tiff) long(e entry) (uint32, bool) {
	if e.typ != typeLong || e.count != 1 {
		return 0, false
	}
	return t.bo.Uint32(e.value[:]), true
}

// ref is a hemisphere letter (an ASCII value of at most 4 bytes, inline).
func ref(e entry) byte {
	if e.typ != typeASCII || e.count < 1 || e.count > 4 {
		return 0
	}
	return e.value[0]
}

// degrees reads three RATIONALs (degrees, minutes, seconds).
func (t tiff) degrees(e entry) (float64, bool) {
	if e.typ != typeRational || e.count != 3 {
		return 0, false
	}
	off := uint64(t.bo.Uint32(e.value[:]))
	if off+24 > uint64(len(t.b)) {
		return 0, false
	}
	var v [3]float64
	for i := range v {
		num, den := t.bo.Uint32(t.b[off+uint64(i)*8:]), t.bo.Uint32(t.b[off+uint64(i)*8+4:])
		if den == 0 {
			return 0, false
		}
		v[i] = float64(num) / float64(den)
	}
	if v[1] >= 60 || v[2] >= 60 {
		return 0, false
	}
	return v[0] + v[1]/60 + v[2]/3600, true
}

func (t tiff) gps(es []entry) *GPS {
	var latRef, lngRef byte
	var lat, lng float64
	var haveLat, haveLng bool
	for _, e := range es {
		switch e.tag {
		case tagGPSLatRef:
			latRef = ref(e)
		case tagGPSLngRef:
			lngRef = ref(e)
		case tagGPSLat:
			lat, haveLat = t.degrees(e)
		case tagGPSLng:
			lng, haveLng = t.degrees(e)
		}
	}
	if !haveLat || !haveLng || (latRef != 'N' && latRef != 'S') || (lngRef != 'E' && lngRef != 'W') {
		return nil
	}
	if latRef == 'S' {
		lat = -lat
	}
	if lngRef == 'W' {
		lng = -lng
	}
	// 0,0 is what a camera without a fix writes, not a place in Vietnam.
	if lat > 90 || lat < -90 || lng > 180 || lng < -180 || (lat == 0 && lng == 0) {
		return nil
	}
	// Six decimals (about 10 cm): what a phone's fix is worth, and a value
	// every replica writes alike.
	round := func(f float64) float64 { return math.Round(f*1e6) / 1e6 }
	return &GPS{Lat: round(lat), Lng: round(lng)}
}

// exifBlob finds the EXIF blob of an image of the given format, or nil.
func exifBlob(format string, data []byte) []byte {
	switch format {
	case FormatJPEG:
		return jpegEXIF(data)
	case FormatPNG:
		return pngEXIF(data)
	case FormatWebP:
		return webpEXIF(data)
	}
	return nil
}

// jpegEXIF walks the markers before the image data for APP1 "Exif\0\0".
func jpegEXIF(b []byte) []byte {
	p := 2
	for p+4 <= len(b) {
		if b[p] != 0xFF {
			return nil
		}
		marker := b[p+1]
		if marker == 0xFF { // fill byte
			p++
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image
			return nil
		}
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		if n < 2 || p+2+n > len(b) {
			return nil
		}
		seg := b[p+4 : p+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		p += 2 + n
	}
	return nil
}

// pngEXIF finds the eXIf chunk.
func pngEXIF(b []byte) []byte {
	p := 8
	for p+8 <= len(b) {
		n := int(binary.BigEndian.Uint32(b[p:]))
		typ := string(b[p+4 : p+8])
		if n < 0 || n > len(b)-p-12 {
			return nil
		}
		if typ == "eXIf" {
			return b[p+8 : p+8+n]
		}
		if typ == "IDAT" || typ == "IEND" {
			return nil
		}
		p += 12 + n
	}
	return nil
}

// webpEXIF finds the EXIF chunk of an extended WebP.
func webpEXIF(b []byte) []byte {
	p := 12
	for p+8 <= len(b) {
		n := int(binary.LittleEndian.Uint32(b[p+4:]))
		if n < 0 || n > len(b)-p-8 {
			return nil
		}
		if string(b[p:p+4]) == "EXIF" {
			c := b[p+8 : p+8+n]
			// Some writers keep JPEG's "Exif\0\0" prefix.
			return bytes.TrimPrefix(c, []byte("Exif\x00\x00"))
		}
		p += 8 + n + n&1
	}
	return nil
}
