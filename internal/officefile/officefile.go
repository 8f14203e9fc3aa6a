package officefile

import (
	"bufio"
	"bytes"
	"io"
)

// Kind is what a file's first bytes say it is.
type Kind int

const (
	// Other: not an Office document (text, or another kind of file).
	Other Kind = iota
	// Zip: a zip archive, as an .xlsx (or .docx, .ods) is.
	Zip
	// Compound: an OLE2 compound file that is not password-protected: an
	// .xls (Excel 97-2003) or .doc.
	Compound
	// Encrypted: an .xlsx (or another Office 2007+ document) saved with a
	// password (Excel: Encrypt with Password). Its content is an encrypted
	// package inside a compound file, and cannot be read without the
	// password.
	Encrypted
)

var (
	zipMagic      = []byte("PK\x03\x04")
	compoundMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	// encryptedPackage is the name of the stream holding an encrypted
	// document ([MS-OFFCRYPTO] 2.3.4.4), as a compound file's directory
	// spells it (UTF-16LE).
	encryptedPackage = utf16le("EncryptedPackage")
)

// maxScan bounds how much of a compound file is searched for the
// encrypted package's name.
const maxScan = 256 << 20

func utf16le(s string) []byte {
	out := make([]byte, 0, 2*len(s))
	for _, c := range []byte(s) {
		out = append(out, c, 0)
	}
	return out
}

// Peek tells the kind of the file br reads, leaving br's bytes unread when
// it is not a compound file (a compound file is read through to find its
// directory).
func Peek(br *bufio.Reader) Kind {
	head, _ := br.Peek(len(compoundMagic))
	switch {
	case bytes.HasPrefix(head, zipMagic):
		return Zip
	case bytes.Equal(head, compoundMagic):
		if holds(br, encryptedPackage) {
			return Encrypted
		}
		return Compound
	}
	return Other
}

// Of tells the kind of the file r reads from its start; r is read.
func Of(r io.Reader) Kind { return Peek(bufio.NewReader(r)) }

// holds says whether r's first maxScan bytes hold pat.
func holds(r io.Reader, pat []byte) bool {
	buf := make([]byte, 0, 1<<20+len(pat))
	r = io.LimitReader(r, maxScan)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if bytes.Contains(buf, pat) {
			return true
		}
		if err != nil {
			return false
		}
		if len(buf) == cap(buf) {
			keep := len(pat) - 1
			copy(buf, buf[len(buf)-keep:])
			buf = buf[:keep]
		}
	}
}
