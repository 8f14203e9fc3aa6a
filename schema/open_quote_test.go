package schema_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hamlet-vn/hamlet/schema"
)

// A quote left open on line 3 must be reported on line 3, not at the end
// of the file where csv gave up.
// A quote left open in a units file was reported at the end of the file
// (line 6 here, 66 in a real one), not on the line it opened (helper 144).
func TestUnitsFileOpenQuoteIsReportedOnItsLine(t *testing.T) {
	in := "commune_name,commune_type,formed_from,commune_code,formed_from_codes,nq1655_clause\n" +
		"A,xa,x,32167,32167,1\n" +
		"\"B,xa,x,32168,32168,1\n" +
		"C,xa,x,32169,32169,1\n" +
		"D,xa,x,32170,32170,1\n" +
		"E,xa,x,32171,32171,1\n"
	_, err := schema.ParseUnits2025(strings.NewReader(in))
	var pe *schema.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("want ParseError, got %v", err)
	}
	if pe.Line != 3 {
		t.Fatalf("the quote opens on line 3; the error says line %d: %s / %s", pe.Line, pe.Message("vi"), pe.Message("en"))
	}
}
