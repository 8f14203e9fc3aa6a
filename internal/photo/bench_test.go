package photo_test

import (
	"testing"

	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
)

// BenchmarkProcessPhonePhoto: what attaching one 12 MP phone photo costs
// the laptop (decode, scale to 1600 px, encode).
func BenchmarkProcessPhonePhoto(b *testing.B) {
	src := phototest.PhoneJPEG(1, phototest.EXIF(1, &caMau))
	b.SetBytes(int64(len(src)))
	var out int
	for b.Loop() {
		p, err := photo.Process(src, photo.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		out = len(p.JPEG)
	}
	b.ReportMetric(float64(len(src)), "source-bytes")
	b.ReportMetric(float64(out), "stored-bytes")
}
