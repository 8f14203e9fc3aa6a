package protospec

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

const root = "../.."

// The committed vectors and the schema section of PROTOCOL.md are what the
// generator writes now: a change to the codec, the error codes or the
// registry without regenerating fails here.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	fs, err := Generate(root)
	require.NoError(t, err)
	stale, err := Stale(root, fs)
	require.NoError(t, err)
	require.Empty(t, stale, "out of date; run from the repository's root: %s", Command)
}

// Generating twice gives the same bytes (no map order, no clock).
func TestGenerationIsDeterministic(t *testing.T) {
	a, err := Generate(root)
	require.NoError(t, err)
	b, err := Generate(root)
	require.NoError(t, err)
	require.Equal(t, a, b)
}

type vectorFile struct {
	Type     int    `json:"type"`
	TypeName string `json:"type_name"`
	Vectors  []struct {
		Name      string          `json:"name"`
		Note      string          `json:"note"`
		Canonical bool            `json:"canonical"`
		Retryable *bool           `json:"retryable"`
		Hex       string          `json:"hex"`
		Message   json.RawMessage `json:"message"`
		Error     string          `json:"error"`
	} `json:"vectors"`
}

func readVectorFiles(t *testing.T) map[string]vectorFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, VectorsDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	out := map[string]vectorFile{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		var f vectorFile
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&f), p)
		require.NotEmpty(t, f.Vectors, p)
		out[filepath.Base(p)] = f
	}
	return out
}

func sameJSON(t *testing.T, want, got []byte, msg string) {
	t.Helper()
	var w, g any
	require.NoError(t, json.Unmarshal(want, &w), msg)
	require.NoError(t, json.Unmarshal(got, &g), msg)
	require.Equal(t, w, g, msg)
}

// Each committed vector, read as another implementation would read it:
// its bytes decode to its meaning; a canonical one is what the encoder
// writes; every valid frame but §16.2's old form is standard msgpack; an
// invalid one is refused with its code.
func TestVectorsMeanWhatTheySay(t *testing.T) {
	for name, f := range readVectorFiles(t) {
		for _, v := range f.Vectors {
			t.Run(name+"/"+v.Name, func(t *testing.T) {
				frame, err := hex.DecodeString(v.Hex)
				require.NoError(t, err)
				m, err := syncproto.Decode(frame, syncproto.DefaultLimits)
				if name == "invalid.json" {
					require.Error(t, err)
					require.Equal(t, syncproto.Code(v.Error), syncproto.CodeOf(err), "%v", err)
					return
				}
				require.NoError(t, err)
				require.Equal(t, f.Type, int(m.Type()))
				require.Equal(t, f.TypeName, m.Type().String())
				meaning, err := Meaning(m)
				require.NoError(t, err)
				got, err := json.Marshal(meaning)
				require.NoError(t, err)
				sameJSON(t, v.Message, got, "meaning")
				if v.Canonical {
					again, err := syncproto.Encode(nil, m)
					require.NoError(t, err)
					require.Equal(t, v.Hex, hex.EncodeToString(again), "a canonical vector is what the encoder writes")
				}
				r := bytes.NewReader(frame)
				_, gerr := msgpack.NewDecoder(r).DecodeInterfaceLoose()
				if m.Type() == syncproto.MsgSnapshotRequest && frame[0] == 0x96 && !v.Canonical {
					require.Error(t, gerr, "§16.2's old form is not valid msgpack")
					return
				}
				require.NoError(t, gerr, "a generic msgpack decoder reads it")
				require.Zero(t, r.Len())
				if em, ok := m.(*syncproto.ErrorMsg); ok {
					require.NotNil(t, v.Retryable)
					require.Equal(t, em.Code.Retryable(), *v.Retryable)
				}
			})
		}
	}
}

// One file per message type the decoder knows, and an Error vector per
// code: a new message type or code without vectors fails.
func TestVectorsCoverEveryTypeAndCode(t *testing.T) {
	files := readVectorFiles(t)
	var types []int
	for name, f := range files {
		if name == "invalid.json" {
			continue
		}
		require.Equal(t, f.TypeName+".json", name)
		types = append(types, f.Type)
	}
	slices.Sort(types)
	var known []int
	for n := 0; n <= 255; n++ {
		frame, err := msgpack.Marshal([]any{uint8(n)})
		require.NoError(t, err)
		if _, err := syncproto.Decode(frame, syncproto.DefaultLimits); syncproto.CodeOf(err) != syncproto.CodeUnknownType {
			known = append(known, n)
		}
	}
	require.Equal(t, known, types, "message types the decoder knows, and vector files")

	var codes []syncproto.Code
	for _, v := range files["error.json"].Vectors {
		frame, err := hex.DecodeString(v.Hex)
		require.NoError(t, err)
		m, err := syncproto.Decode(frame, syncproto.DefaultLimits)
		require.NoError(t, err)
		codes = append(codes, m.(*syncproto.ErrorMsg).Code)
	}
	require.Equal(t, syncproto.Codes(), codes)
}

// The error tables of PROTOCOL.md (§9, §15) list every code, with the
// retryable and fatal columns that the code and the vectors have.
func TestSpecErrorTablesMatchTheCodes(t *testing.T) {
	f, err := os.Open(filepath.Join(root, ProtocolDoc))
	require.NoError(t, err)
	defer f.Close()
	row := regexp.MustCompile("^\\| `([a-z_]+)` \\| [^|]+ \\| [^|]+ \\| ([^|]+) \\| ([^|]+) \\|$")
	type cols struct{ retryable, fatal bool }
	spec := map[syncproto.Code]cols{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			yes := func(s string) bool { return strings.Trim(s, "* ") == "yes" }
			require.NotContains(t, spec, syncproto.Code(m[1]), "code %s in two tables", m[1])
			spec[syncproto.Code(m[1])] = cols{yes(m[2]), yes(m[3])}
		}
	}
	require.NoError(t, sc.Err())
	for _, c := range syncproto.Codes() {
		got, ok := spec[c]
		require.True(t, ok, "docs/PROTOCOL.md has no row for the code %s in its error tables", c)
		require.Equal(t, c.Retryable(), got.retryable, "retryable column of %s", c)
		require.Equal(t, fatal[c], got.fatal, "fatal column of %s", c)
	}
}

// SpliceSchema replaces whatever is between the markers, and refuses a
// document whose markers are missing or doubled rather than guess.
func TestSpliceSchema(t *testing.T) {
	doc := []byte("# spec\n\n" + schema.SpecBegin + "\n| stale | table |\n" + schema.SpecEnd + "\n\nafter\n")
	out, err := SpliceSchema(doc)
	require.NoError(t, err)
	require.Equal(t, "# spec\n\n"+schema.SpecBegin+"\n"+schema.SpecMarkdown()+schema.SpecEnd+"\n\nafter\n", string(out))
	again, err := SpliceSchema(out)
	require.NoError(t, err)
	require.Equal(t, out, again)

	for _, bad := range []string{
		"no markers",
		schema.SpecBegin + "\nno end\n",
		schema.SpecEnd + "\n" + schema.SpecBegin + "\n",
		schema.SpecBegin + "\n" + schema.SpecEnd + "\n" + schema.SpecBegin + "\n" + schema.SpecEnd + "\n",
	} {
		_, err := SpliceSchema([]byte(bad))
		require.Error(t, err, bad)
	}
}

// The section tells a client what it had to read Go for: the table names,
// every field with its type, the enum values.
func TestSchemaSectionNamesEveryField(t *testing.T) {
	md := schema.SpecMarkdown()
	for _, tb := range schema.SyncedTables() {
		require.Contains(t, md, "#### `"+tb.Name+"`")
		for _, f := range tb.Fields {
			require.Contains(t, md, "| `"+f.Name+"` | `"+f.Type.String()+"` |", "%s.%s", tb.Name, f.Name)
			if f.Enum != "" {
				for _, v := range schema.EnumValues(f.Enum) {
					require.Contains(t, md, "`"+v+"`")
				}
			}
		}
	}
}
