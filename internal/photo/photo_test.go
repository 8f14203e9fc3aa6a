package photo_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
)

// Ca Mau's people's committee, roughly: a place the GPS tags must round-trip.
var caMau = [2]float64{9.176944, 105.150278}

func TestProcessScalesStripsAndReadsGPS(t *testing.T) {
	src := phototest.WithEXIF(phototest.JPEG(phototest.Image(2400, 1800, true, 1), 90), phototest.EXIF(1, &caMau))
	p, err := photo.Process(src, photo.Limits{})
	require.NoError(t, err)
	require.Equal(t, 1600, p.Width)
	require.Equal(t, 1200, p.Height)
	require.Equal(t, photo.FormatJPEG, p.Source.Format)
	require.NotNil(t, p.GPS)
	require.InDelta(t, caMau[0], p.GPS.Lat, 1e-5)
	require.InDelta(t, caMau[1], p.GPS.Lng, 1e-5)
	require.Equal(t, photo.Digest(p.JPEG), p.Digest)
	require.True(t, photo.ValidDigest(p.Digest))
	require.False(t, bytes.Contains(p.JPEG, []byte("Exif\x00\x00")), "the re-encoded photo keeps no EXIF")
	m, err := photo.ParseEXIF(nil)
	require.Error(t, err)
	require.Nil(t, m.GPS)
	// Processing is deterministic: the same file gives the same digest, so
	// a photo attached twice is stored and sent once.
	again, err := photo.Process(src, photo.Limits{})
	require.NoError(t, err)
	require.Equal(t, p.Digest, again.Digest)
}

// TestProcessTurnsUpright: a phone held upright writes a landscape image
// and orientation 6; the stored photo is portrait with the dark band (the
// image's top) on top.
func TestProcessTurnsUpright(t *testing.T) {
	src := phototest.WithEXIF(phototest.JPEG(phototest.Image(800, 400, false, 2), 95), phototest.EXIF(6, nil))
	p, err := photo.Process(src, photo.Limits{})
	require.NoError(t, err)
	require.Equal(t, 400, p.Width)
	require.Equal(t, 800, p.Height)
	img, err := jpeg.Decode(bytes.NewReader(p.JPEG))
	require.NoError(t, err)
	// Rotated 90° clockwise, the band along the source's top lies along
	// the right edge.
	r, _, _, _ := img.At(395, 400).RGBA()
	require.Less(t, r>>8, uint32(40), "the dark band is on the right after the turn")
	r, _, _, _ = img.At(5, 400).RGBA()
	require.Greater(t, r>>8, uint32(60))
	require.Nil(t, p.GPS)
}

func TestProcessFormatsByContent(t *testing.T) {
	small := phototest.Image(40, 30, false, 3)
	for name, tc := range map[string]struct {
		data   []byte
		format string
		err    error
	}{
		"jpeg":                     {phototest.JPEG(small, 90), photo.FormatJPEG, nil},
		"png":                      {phototest.PNG(small), photo.FormatPNG, nil},
		"webp":                     {phototest.WebP(8, 6, color.RGBA{200, 20, 20, 255}), photo.FormatWebP, nil},
		"text named .jpg":          {[]byte("this is not a photo, whatever the name says"), "", photo.ErrNotImage},
		"jpeg magic, then garbage": {append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{7}, 500)...), "", photo.ErrDamaged},
		"truncated jpeg":           {phototest.JPEG(phototest.Image(400, 300, true, 4), 90)[:3000], "", photo.ErrDamaged},
		"gif":                      {[]byte("GIF89a\x01\x00\x01\x00"), "", photo.ErrNotImage},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := photo.Process(tc.data, photo.Limits{})
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.format, p.Source.Format)
			_, err = jpeg.Decode(bytes.NewReader(p.JPEG))
			require.NoError(t, err)
		})
	}
}

// TestBombRefusedBeforeDecoding: a PNG whose header claims 30,000 × 30,000
// pixels (the file itself is tiny) is refused from its header; decoding it
// would allocate 3.6 GB.
func TestBombRefusedBeforeDecoding(t *testing.T) {
	bomb := pngHeader(30000, 30000)
	_, err := photo.Process(bomb, photo.Limits{})
	var se *photo.SizeError
	require.ErrorAs(t, err, &se)
	require.Equal(t, 30000, se.Width)
	require.ErrorIs(t, err, photo.ErrTooManyPixels)
	allocs := testing.AllocsPerRun(5, func() { _, _ = photo.Process(bomb, photo.Limits{}) })
	require.Less(t, allocs, 100.0, "nothing was decoded")

	_, err = photo.Process(bytes.Repeat([]byte{0xFF}, 100), photo.Limits{MaxBytes: 50})
	require.ErrorIs(t, err, photo.ErrFileTooLarge)
}

// pngHeader is a real PNG of 1 × 1 whose IHDR is rewritten to claim w × h
// (CRC fixed so the header is valid).
func pngHeader(w, h int) []byte {
	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16:], uint32(w))
	binary.BigEndian.PutUint32(b[20:], uint32(h))
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestCheckIsForStoredPhotos(t *testing.T) {
	j := phototest.JPEG(phototest.Image(64, 48, true, 5), 80)
	in, err := photo.Check(j, photo.Limits{})
	require.NoError(t, err)
	require.Equal(t, 64, in.Width)
	_, err = photo.Check(phototest.PNG(phototest.Image(8, 8, false, 6)), photo.Limits{})
	require.ErrorIs(t, err, photo.ErrNotImage, "what a client stores is a JPEG")
	_, err = photo.Check(j[:len(j)/2], photo.Limits{})
	require.ErrorIs(t, err, photo.ErrDamaged)

	th, err := photo.Thumbnail(j, 32, photo.Limits{})
	require.NoError(t, err)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(th))
	require.NoError(t, err)
	require.Equal(t, 32, cfg.Width)
	require.Equal(t, 24, cfg.Height)
}

func TestParseEXIFCases(t *testing.T) {
	south := [2]float64{-33.8568, -151.2153}
	for name, tc := range map[string]struct {
		blob   []byte
		gps    *[2]float64
		orient int
		err    bool
	}{
		"north-east":         {phototest.EXIF(0, &caMau), &caMau, 0, false},
		"south-west":         {phototest.EXIF(3, &south), &south, 3, false},
		"orientation only":   {phototest.EXIF(8, nil), nil, 8, false},
		"null island":        {phototest.EXIF(0, &[2]float64{0, 0}), nil, 0, false},
		"empty":              {nil, nil, 0, true},
		"bad byte order":     {[]byte("XX*\x00\x08\x00\x00\x00"), nil, 0, true},
		"ifd beyond the end": {[]byte("II*\x00\xff\x00\x00\x00"), nil, 0, true},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := photo.ParseEXIF(tc.blob)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.orient, m.Orientation)
			if tc.gps == nil {
				require.Nil(t, m.GPS)
				return
			}
			require.NotNil(t, m.GPS)
			require.InDelta(t, tc.gps[0], m.GPS.Lat, 1e-5)
			require.InDelta(t, tc.gps[1], m.GPS.Lng, 1e-5)
		})
	}
}

// FuzzParseEXIF: any bytes, as the EXIF blob or inside a JPEG's APP1,
// never panic and never give a position off the Earth.
func FuzzParseEXIF(f *testing.F) {
	f.Add(phototest.EXIF(6, &caMau))
	f.Add(phototest.EXIF(0, &[2]float64{-1, -1}))
	f.Add([]byte("MM\x00*\x00\x00\x00\x08\x00\x01\x88\x25\x00\x04\x00\x00\x00\x01\x00\x00\x00\x1a"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := photo.ParseEXIF(b)
		if err != nil {
			require.Nil(t, m.GPS)
		}
		if m.GPS != nil {
			require.True(t, m.GPS.Lat >= -90 && m.GPS.Lat <= 90 && m.GPS.Lng >= -180 && m.GPS.Lng <= 180)
		}
		require.True(t, m.Orientation >= 0 && m.Orientation <= 8)
		if len(b) > 60000 {
			return
		}
		j := phototest.WithEXIF(tinyJPEG, b)
		if _, err := photo.Process(j, photo.Limits{}); err != nil {
			require.ErrorIs(t, err, photo.ErrDamaged)
		}
	})
}

var tinyJPEG = phototest.JPEG(phototest.Image(4, 4, false, 7), 90)
