package schema

import "sync"

// Version is the schema version carried in the sync handshake. Version 2
// added households.uses_camau_g, version 3 field_reports.photo_digests
// (see Field.Since and docs/PROTOCOL.md, "Schema evolution").
const Version = 3

// MinSupportedVersion is the oldest peer schema this build still syncs with.
const MinSupportedVersion = 1

// FieldType is how a field's value travels and is stored.
type FieldType uint8

const (
	TypeString FieldType = iota + 1 // NFC text, trimmed
	TypeInt                         // int64
	TypeBool                        // bool
	TypeFloat                       // float64, finite
	TypeTime                        // unix milliseconds, int64
	TypeDate                        // "YYYY-MM-DD" string
	TypeUUID                        // canonical lowercase UUID string
	TypeEnum                        // string from the enum named by Field.Enum
	TypePhone                       // Vietnamese number, canonical 0xxxxxxxxx
)

var typeNames = [...]string{"invalid", "string", "int", "bool", "float", "time", "date", "uuid", "enum", "phone"}

func (t FieldType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return typeNames[0]
}

// Enum names for Field.Enum.
const (
	EnumSkill           = "skill"
	EnumReportCategory  = "report_category"
	EnumReportStatus    = "report_status"
	EnumTutoringOutcome = "tutoring_outcome"
	EnumRole            = "role"
)

// Names that every synced table shares.
const (
	// DeletedField is the tombstone; it is valid on every synced table
	// without being listed in Table.Fields, since it is the sync layer's
	// field rather than the data model's.
	DeletedField = "_deleted"
	// ScopeField is the replication scope of every synced row.
	ScopeField = "hamlet_code"
	// PhotoDigestsField is field_reports' list of photos (schema 3).
	PhotoDigestsField = "photo_digests"
)

// Field describes one column of a synced table. Min and Max bound TypeInt
// and TypeFloat values; 0, 0 means unbounded. MaxLen counts characters
// (runes after NFC), not bytes, because volunteers type Vietnamese.
type Field struct {
	Name         string
	Type         FieldType
	Required     bool
	Enum         string
	MaxLen       int
	Min, Max     int64
	Confidential bool // reporter identity: only some roles may read it
	// Since is the schema version that added the field; 0 means the first
	// (version 1). A peer at an older version does not know the field: it
	// keeps the field's versions without validating or showing them.
	Since int
	// WrittenBy, when set, is the only writer that may write the field
	// (Table.CheckWrite): the report workflow's fields belong to
	// coordinators. FiledAs is the one value another writer may give it,
	// when it creates the row (a volunteer files a report as submitted).
	WrittenBy Writer
	FiledAs   string

	format format
}

// format adds a check on top of Type for the few fields whose text has a
// structure of its own.
type format uint8

const (
	formatNone format = iota
	formatHamlet
	formatJSONStrings
	formatDigests
)

// MaxPhotos is how many photos one field report holds: a few views of the
// flooded road, not an album; it keeps the field under a kilobyte.
const MaxPhotos = 10

// Table describes one synced table. Every row also has an "id" (its UUID
// key, not a Field) and the implicit DeletedField.
type Table struct {
	Name        string
	Fields      []Field
	ScopeField  string
	ParentTable string
	ParentField string

	byName map[string]*Field
}

var deletedField = Field{Name: DeletedField, Type: TypeBool}

// Field returns the named field, including DeletedField. The result is
// shared: do not modify it.
func (t *Table) Field(name string) (*Field, bool) {
	if name == DeletedField {
		return &deletedField, true
	}
	f, ok := t.byName[name]
	return f, ok
}

// Lengths chosen to fit a paper form's worth of text; free text gets more.
const (
	lenName  = 200
	lenShort = 500
	lenNotes = 2000
	lenLong  = 4000
)

func scope() Field {
	return Field{Name: ScopeField, Type: TypeString, Required: true, MaxLen: 8, format: formatHamlet}
}

func str(name string, maxLen int) Field {
	return Field{Name: name, Type: TypeString, MaxLen: maxLen}
}

func required(f Field) Field { f.Required = true; return f }

func typed(name string, t FieldType) Field { return Field{Name: name, Type: t} }

func enum(name, enum string) Field { return Field{Name: name, Type: TypeEnum, Enum: enum} }

func ranged(name string, t FieldType, lo, hi int64) Field {
	return Field{Name: name, Type: t, Min: lo, Max: hi}
}

func confidential(f Field) Field { f.Confidential = true; return f }

func since(v int, f Field) Field { f.Since = v; return f }

// workflow marks a field of the report workflow, which only coordinators
// write (server/workflow.go: status, agency, status_reason, dispatched_at,
// resolved_at); filedAs is the status a volunteer may file a new report with.
func workflow(f Field) Field { f.WrittenBy = WriterCoordinator; return f }

func filedAs(v string, f Field) Field { f.FiledAs = v; return f }

var tables = sync.OnceValue(func() []*Table {
	ts := []*Table{
		{
			Name: "households",
			Fields: []Field{
				scope(),
				required(str("head_name", lenName)),
				str("address", lenShort),
				typed("phone", TypePhone),
				ranged("members_count", TypeInt, 1, 50),
				// The six flags below are the names skills.csv gives in household_flag.
				typed("has_smartphone", TypeBool),
				typed("vneid_installed", TypeBool),
				typed("vneid_level2", TypeBool),
				typed("uses_public_services", TypeBool),
				typed("uses_cashless", TypeBool),
				typed("has_ehealth_record", TypeBool),
				typed("active", TypeBool),
				typed("registered_on", TypeDate),
				str("notes", lenNotes),
				// Schema 2: the household uses the province's CaMau-G app
				// (field reports, public services), what the skill camau_g
				// teaches. skills.csv is the shared reference file as it is,
				// so its household_flag column does not name it yet.
				since(2, typed("uses_camau_g", TypeBool)),
			},
		},
		{
			Name:        "visits",
			ParentTable: "households", ParentField: "household_id",
			Fields: []Field{
				scope(),
				required(typed("household_id", TypeUUID)),
				required(typed("volunteer_id", TypeUUID)),
				required(typed("visited_on", TypeDate)),
				str("notes", lenNotes),
			},
		},
		{
			Name:        "tutoring_records",
			ParentTable: "households", ParentField: "household_id",
			Fields: []Field{
				scope(),
				required(typed("household_id", TypeUUID)),
				required(typed("volunteer_id", TypeUUID)),
				required(enum("skill", EnumSkill)),
				str("person_name", lenName),
				required(typed("taught_on", TypeDate)),
				required(enum("outcome", EnumTutoringOutcome)),
			},
		},
		{
			Name: "field_reports",
			// household_id is optional here: a report may concern a place, not
			// a household, so there is no parent link.
			Fields: []Field{
				scope(),
				typed("household_id", TypeUUID),
				required(typed("volunteer_id", TypeUUID)),
				required(enum("category", EnumReportCategory)),
				required(str("description", lenLong)),
				str("location", lenShort),
				ranged("lat", TypeFloat, -90, 90),
				ranged("lng", TypeFloat, -180, 180),
				typed("occurred_at", TypeTime),
				confidential(str("reporter_name", lenName)),
				confidential(typed("reporter_phone", TypePhone)),
				typed("consent_disclose", TypeBool),
				{Name: "photos", Type: TypeString, MaxLen: lenLong, format: formatJSONStrings},
				filedAs(string(StatusSubmitted), workflow(enum("status", EnumReportStatus))),
				workflow(str("status_reason", lenNotes)),
				workflow(str("agency", lenName)),
				typed("submitted_at", TypeTime),
				workflow(typed("dispatched_at", TypeTime)),
				workflow(typed("resolved_at", TypeTime)),
				ranged("satisfaction", TypeInt, 1, 5),
				// Schema 3: the report's photos, by the SHA-256 of each stored
				// JPEG (docs/PROTOCOL.md §19). A field of its own, not the
				// schema 1 "photos" text (any JSON strings, which older agents
				// may have filled with file names): narrowing what a field
				// accepts is no additive change. The photos themselves travel
				// apart from the records.
				since(3, Field{Name: PhotoDigestsField, Type: TypeString, MaxLen: 1000, format: formatDigests}),
			},
		},
	}
	for _, t := range ts {
		t.ScopeField = ScopeField
		t.index()
	}
	return ts
})

func (t *Table) index() {
	t.byName = make(map[string]*Field, len(t.Fields))
	for i := range t.Fields {
		t.byName[t.Fields[i].Name] = &t.Fields[i]
	}
}

// SyncedTables returns the synced tables in dependency order (parents first).
// The tables are shared: do not modify them.
func SyncedTables() []*Table {
	return append([]*Table(nil), tables()...)
}

// LookupTable returns the synced table with that name.
func LookupTable(name string) (*Table, bool) {
	for _, t := range tables() {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}
