package photo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Formats recognised by content.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatWebP = "webp"
)

// Defaults a deployment may change.
const (
	// DefaultMaxBytes bounds a file a volunteer attaches (15 MB).
	DefaultMaxBytes = 15 << 20
	// DefaultLongSide is the longest side a photo is scaled to: enough to
	// read a street sign, a few hundred kilobytes over 3G.
	DefaultLongSide = 1600
	// DefaultMaxPixels bounds width × height before anything is decoded:
	// 64 megapixels (a 108 MP phone's full-resolution mode excepted; its
	// default mode is 12 MP) decode to 256 MB, which a laptop has; 900
	// million (30,000 × 30,000) would not.
	DefaultMaxPixels = 64_000_000
	// DefaultMaxSide bounds either side alone (a 1 × 60,000,000 strip is
	// within the pixel count and still nothing a camera makes).
	DefaultMaxSide = 16384
	// ThumbSide is the longest side of a thumbnail.
	ThumbSide = 320
	// quality of the re-encoded JPEG: no visible loss at 1600 px.
	quality      = 82
	thumbQuality = 75
)

// Limits bound what Process and Check accept. Zero fields take the defaults.
type Limits struct {
	MaxBytes  int
	MaxPixels int
	MaxSide   int
	// LongSide is what Process scales to (never up).
	LongSide int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultMaxSide
	}
	if l.LongSide <= 0 {
		l.LongSide = DefaultLongSide
	}
	return l
}

// Errors, each what a person is told about (the callers word them).
var (
	// ErrNotImage: the content is not a JPEG, PNG or WebP image, whatever
	// the file is called.
	ErrNotImage = errors.New("photo: not a JPEG, PNG or WebP image")
	// ErrDamaged: it starts like one of those and does not decode.
	ErrDamaged = errors.New("photo: the image is damaged or truncated")
	// ErrFileTooLarge: more bytes than Limits.MaxBytes.
	ErrFileTooLarge = errors.New("photo: the file is too large")
	// ErrTooManyPixels: its header claims more pixels than Limits allow
	// (refused before decoding).
	ErrTooManyPixels = errors.New("photo: the image has too many pixels")
)

// SizeError is ErrTooManyPixels with the dimensions the header claimed.
type SizeError struct{ Width, Height int }

func (e *SizeError) Error() string {
	return fmt.Sprintf("%v: %d × %d", ErrTooManyPixels, e.Width, e.Height)
}

func (e *SizeError) Unwrap() error { return ErrTooManyPixels }

// Sniff tells the format from the first bytes, "" if none of the three.
func Sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return FormatJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return FormatWebP
	}
	return ""
}

// Info is an image's header.
type Info struct {
	Format        string
	Width, Height int
}

// Inspect reads format and dimensions from the header alone and checks
// them against l: the decompression-bomb guard, run before any decoding.
func Inspect(b []byte, l Limits) (Info, error) {
	l = l.withDefaults()
	if len(b) > l.MaxBytes {
		return Info{}, ErrFileTooLarge
	}
	f := Sniff(b)
	var cfg image.Config
	var err error
	switch f {
	case FormatJPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(b))
	case FormatPNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(b))
	case FormatWebP:
		cfg, err = webp.DecodeConfig(bytes.NewReader(b))
	default:
		return Info{}, ErrNotImage
	}
	if err != nil {
		return Info{}, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	in := Info{Format: f, Width: cfg.Width, Height: cfg.Height}
	if in.Width <= 0 || in.Height <= 0 {
		return in, ErrDamaged
	}
	if in.Width > l.MaxSide || in.Height > l.MaxSide || int64(in.Width)*int64(in.Height) > int64(l.MaxPixels) {
		return in, &SizeError{Width: in.Width, Height: in.Height}
	}
	return in, nil
}

func decode(b []byte, format string) (img image.Image, err error) {
	switch format {
	case FormatJPEG:
		img, err = jpeg.Decode(bytes.NewReader(b))
	case FormatPNG:
		img, err = png.Decode(bytes.NewReader(b))
	case FormatWebP:
		img, err = webp.Decode(bytes.NewReader(b))
	default:
		return nil, ErrNotImage
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return img, nil
}

// Photo is an attached image as Hamlet keeps it.
type Photo struct {
	// JPEG is the re-encoded image: upright, at most LongSide on its
	// longest side, without EXIF.
	JPEG []byte
	// Digest is the hex SHA-256 of JPEG: the photo's name everywhere.
	Digest        string
	Width, Height int
	// Source is the attached file's format and size.
	Source      Info
	SourceBytes int
	// GPS is the position the original's EXIF recorded, if any: offered to
	// the volunteer as the report's place, never used unasked.
	GPS *GPS
}

// Process checks, decodes, turns upright, scales and re-encodes b.
func Process(b []byte, l Limits) (Photo, error) {
	l = l.withDefaults()
	in, err := Inspect(b, l)
	if err != nil {
		return Photo{}, err
	}
	meta, _ := ParseEXIF(exifBlob(in.Format, b)) // a bad EXIF is no reason to refuse a photo
	img, err := decode(b, in.Format)
	if err != nil {
		return Photo{}, err
	}
	img = orient(scale(img, l.LongSide), meta.Orientation)
	out, err := encode(img, quality)
	if err != nil {
		return Photo{}, err
	}
	bd := img.Bounds()
	return Photo{JPEG: out, Digest: Digest(out), Width: bd.Dx(), Height: bd.Dy(), Source: in, SourceBytes: len(b), GPS: meta.GPS}, nil
}

// Check is the server's look at an uploaded photo: a JPEG within limits
// that decodes whole. A client made it (Process), but the server stores
// nothing on a client's word.
func Check(b []byte, l Limits) (Info, error) {
	in, err := Inspect(b, l)
	if err != nil {
		return in, err
	}
	if in.Format != FormatJPEG {
		return in, fmt.Errorf("%w: a stored photo is a JPEG, this is %s", ErrNotImage, in.Format)
	}
	if _, err := decode(b, in.Format); err != nil {
		return in, err
	}
	return in, nil
}

// Thumbnail scales a stored photo to side on its longest side.
func Thumbnail(b []byte, side int, l Limits) ([]byte, error) {
	in, err := Inspect(b, l)
	if err != nil {
		return nil, err
	}
	img, err := decode(b, in.Format)
	if err != nil {
		return nil, err
	}
	return encode(scale(img, side), thumbQuality)
}

// Digest is the hex SHA-256 of b.
func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ValidDigest reports whether s is a digest as Digest writes it.
func ValidDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func encode(img image.Image, q int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, fmt.Errorf("photo: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// scale fits img within side × side, keeping its proportions; an image
// already within is drawn as is (never enlarged). Catmull-Rom keeps text
// and edges readable where a bilinear filter would blur or alias them.
func scale(img image.Image, side int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > side || h > side {
		if w >= h {
			w, h = side, max(1, int(int64(h)*int64(side)/int64(w)))
		} else {
			w, h = max(1, int(int64(w)*int64(side)/int64(h))), side
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	op := draw.Src
	if o, ok := img.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		// A JPEG keeps no transparency: what shows through is white, as
		// on the page it came from, not black (dark writing on a
		// transparent PNG would vanish).
		draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
		op = draw.Over
	}
	if w == b.Dx() && h == b.Dy() {
		draw.Draw(dst, dst.Bounds(), img, b.Min, op)
		return dst
	}
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, op, nil)
	return dst
}

// orient applies EXIF orientation o, so the stored photo (which keeps no
// EXIF) stands as the camera was held.
func orient(src *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return src
	}
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // upside down
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored upside down
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // turned right: rotate 90° clockwise
				dx, dy = h-1-y, x
			case 7: // transversed
				dx, dy = h-1-y, w-1-x
			case 8: // turned left: rotate 90° counter-clockwise
				dx, dy = y, w-1-x
			}
			si := src.PixOffset(x, y)
			di := dst.PixOffset(dx, dy)
			copy(dst.Pix[di:di+4], src.Pix[si:si+4])
		}
	}
	return dst
}
