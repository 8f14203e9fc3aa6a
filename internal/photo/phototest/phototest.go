package phototest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
)

// Image is a w × h picture: a gradient with a dark band at the top (so a
// test can tell which way up it is) and, with noise, per-pixel grain like
// a phone sensor's, which makes JPEG sizes realistic.
func Image(w, h int, noise bool, seed uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, b := uint8(x*255/max(1, w-1)), uint8(y*255/max(1, h-1)), uint8(128)
			if y < h/8 {
				r, g, b = 10, 10, 10
			}
			if noise {
				n := int(rng.IntN(96)) - 48
				r, g, b = clamp(int(r)+n), clamp(int(g)+n), clamp(int(b)-n)
			}
			img.SetRGBA(x, y, color.RGBA{r, g, b, 255})
		}
	}
	return img
}

func clamp(v int) uint8 { return uint8(min(255, max(0, v))) }

// JPEG encodes img at quality q.
func JPEG(img image.Image, q int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		panic(err) // an in-memory encode of a valid image does not fail
	}
	return buf.Bytes()
}

// PNG encodes img.
func PNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// PhoneJPEG is a 4000 × 3000 noisy JPEG of about 4 MB, as a phone camera
// writes one, with the EXIF given (nil: none).
func PhoneJPEG(seed uint64, exif []byte) []byte {
	return WithEXIF(JPEG(Image(4000, 3000, true, seed), 75), exif)
}

// WithEXIF inserts an APP1 "Exif" segment right after the JPEG's SOI.
func WithEXIF(j []byte, exif []byte) []byte {
	if exif == nil {
		return j
	}
	seg := append([]byte("Exif\x00\x00"), exif...)
	out := append([]byte{}, j[:2]...)
	out = append(out, 0xFF, 0xE1, byte((len(seg)+2)>>8), byte(len(seg)+2))
	out = append(out, seg...)
	return append(out, j[2:]...)
}

// EXIF is a little-endian TIFF blob with IFD0 holding the orientation
// (0: none) and, when lat/lng are given, a GPS IFD as phones write it
// (hemisphere letters, and degrees/minutes/seconds as rationals).
func EXIF(orientation int, gps *[2]float64) []byte {
	le := binary.LittleEndian
	var b []byte
	b = append(b, 'I', 'I', 42, 0, 8, 0, 0, 0)
	var ifd0 [][12]byte
	entry := func(tag, typ uint16, count, value uint32) [12]byte {
		var e [12]byte
		le.PutUint16(e[0:], tag)
		le.PutUint16(e[2:], typ)
		le.PutUint32(e[4:], count)
		le.PutUint32(e[8:], value)
		return e
	}
	if orientation > 0 {
		ifd0 = append(ifd0, entry(0x0112, 3, 1, uint32(orientation)))
	}
	n0 := len(ifd0)
	if gps != nil {
		n0++
	}
	gpsOff := 8 + 2 + 12*n0 + 4
	if gps != nil {
		ifd0 = append(ifd0, entry(0x8825, 4, 1, uint32(gpsOff)))
	}
	b = le.AppendUint16(b, uint16(len(ifd0)))
	for _, e := range ifd0 {
		b = append(b, e[:]...)
	}
	b = append(b, 0, 0, 0, 0) // no next IFD
	if gps == nil {
		return b
	}
	lat, lng := gps[0], gps[1]
	latRef, lngRef := byte('N'), byte('E')
	if lat < 0 {
		latRef, lat = 'S', -lat
	}
	if lng < 0 {
		lngRef, lng = 'W', -lng
	}
	dataOff := gpsOff + 2 + 12*4 + 4
	b = le.AppendUint16(b, 4)
	e := entry(0x0001, 2, 2, uint32(latRef))
	b = append(b, e[:]...)
	e = entry(0x0002, 5, 3, uint32(dataOff))
	b = append(b, e[:]...)
	e = entry(0x0003, 2, 2, uint32(lngRef))
	b = append(b, e[:]...)
	e = entry(0x0004, 5, 3, uint32(dataOff+24))
	b = append(b, e[:]...)
	b = append(b, 0, 0, 0, 0)
	for _, v := range []float64{lat, lng} {
		d := uint32(v)
		m := uint32((v - float64(d)) * 60)
		s := (v - float64(d) - float64(m)/60) * 3600
		b = le.AppendUint32(b, d)
		b = le.AppendUint32(b, 1)
		b = le.AppendUint32(b, m)
		b = le.AppendUint32(b, 1)
		b = le.AppendUint32(b, uint32(s*10000+0.5))
		b = le.AppendUint32(b, 10000)
	}
	return b
}

// WebP is a w × h lossless WebP of one colour, written bit by bit as the
// VP8L format lays it out (no transform, no colour cache, five one-symbol
// prefix codes: every pixel costs zero bits).
func WebP(w, h int, c color.RGBA) []byte {
	var bw bitWriter
	bw.put(0x2f, 8) // VP8L signature
	bw.put(uint32(w-1), 14)
	bw.put(uint32(h-1), 14)
	bw.put(0, 1) // alpha not used
	bw.put(0, 3) // version 0
	bw.put(0, 1) // no transform
	bw.put(0, 1) // no colour cache
	bw.put(0, 1) // no meta prefix codes
	for _, sym := range []uint8{c.G, c.R, c.B, c.A, 0} {
		bw.put(1, 1) // simple code
		bw.put(0, 1) // one symbol
		bw.put(1, 1) // of 8 bits
		bw.put(uint32(sym), 8)
	}
	data := bw.bytes()
	chunk := append([]byte("VP8L"), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	chunk = append(chunk, data...)
	if len(data)%2 == 1 {
		chunk = append(chunk, 0)
	}
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(chunk)))...)
	out = append(out, "WEBP"...)
	return append(out, chunk...)
}

type bitWriter struct {
	buf  []byte
	acc  uint64
	nacc uint
}

func (b *bitWriter) put(v uint32, n uint) {
	b.acc |= uint64(v) << b.nacc
	b.nacc += n
	for b.nacc >= 8 {
		b.buf = append(b.buf, byte(b.acc))
		b.acc >>= 8
		b.nacc -= 8
	}
}

func (b *bitWriter) bytes() []byte {
	if b.nacc > 0 {
		return append(b.buf, byte(b.acc))
	}
	return b.buf
}
