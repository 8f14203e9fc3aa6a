package schema_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
)

func TestRegistryShape(t *testing.T) {
	var names []string
	for _, tb := range schema.SyncedTables() {
		names = append(names, tb.Name)
	}
	require.Equal(t, []string{"households", "visits", "tutoring_records", "field_reports"}, names)
	require.LessOrEqual(t, schema.MinSupportedVersion, schema.Version)

	_, ok := schema.LookupTable("teams")
	require.False(t, ok, "teams are not synced field by field")

	for _, tb := range schema.SyncedTables() {
		t.Run(tb.Name, func(t *testing.T) {
			require.Equal(t, "hamlet_code", tb.ScopeField)
			scope, ok := tb.Field("hamlet_code")
			require.True(t, ok)
			require.True(t, scope.Required)
			require.Equal(t, schema.TypeString, scope.Type)

			del, ok := tb.Field("_deleted")
			require.True(t, ok)
			require.Equal(t, schema.TypeBool, del.Type)

			if tb.ParentTable != "" {
				_, ok := schema.LookupTable(tb.ParentTable)
				require.True(t, ok)
				pf, ok := tb.Field(tb.ParentField)
				require.True(t, ok)
				require.Equal(t, schema.TypeUUID, pf.Type)
			}
			seen := map[string]bool{}
			for _, f := range tb.Fields {
				require.False(t, seen[f.Name], "duplicate field %s", f.Name)
				seen[f.Name] = true
				got, ok := tb.Field(f.Name)
				require.True(t, ok)
				require.Equal(t, f, *got)
				require.NotEqual(t, "invalid", f.Type.String())
				if f.Type == schema.TypeEnum {
					require.NotEmpty(t, schema.EnumValues(f.Enum), "enum %s", f.Enum)
				} else {
					require.Empty(t, f.Enum)
				}
				if f.Type == schema.TypeString {
					require.Positive(t, f.MaxLen, "every string is bounded: %s", f.Name)
				}
			}
		})
	}

	fr, _ := schema.LookupTable("field_reports")
	var conf []string
	for _, f := range fr.Fields {
		if f.Confidential {
			conf = append(conf, f.Name)
		}
	}
	require.Equal(t, []string{"reporter_name", "reporter_phone"}, conf)
}

func TestSkillsAndCategories(t *testing.T) {
	skills := schema.Skills()
	require.Len(t, skills, 11)
	s, ok := schema.SkillByCode("vneid_level2")
	require.True(t, ok)
	require.Equal(t, schema.Skill{Code: "vneid_level2", NameVI: "Kích hoạt tài khoản định danh điện tử mức độ 2", NameEN: "Activating e-ID level 2", HouseholdFlag: "vneid_level2"}, s)
	_, ok = schema.SkillByCode("nope")
	require.False(t, ok)

	// household_flag names a boolean households field; all six are used.
	hh, _ := schema.LookupTable("households")
	flags := 0
	for _, s := range skills {
		if s.HouseholdFlag == "" {
			continue
		}
		flags++
		f, ok := hh.Field(s.HouseholdFlag)
		require.True(t, ok, s.HouseholdFlag)
		require.Equal(t, schema.TypeBool, f.Type)
	}
	require.Equal(t, 6, flags)

	cats := schema.ReportCategories()
	require.Len(t, cats, 10)
	c, ok := schema.ReportCategoryByCode("an_ninh_trat_tu")
	require.True(t, ok)
	require.Equal(t, "Security and public order", c.NameEN)
	_, ok = schema.ReportCategoryByCode("khieu_nai")
	require.False(t, ok, "complaints are not field reports")

	skills[0].Code = "changed"
	require.NotEqual(t, "changed", schema.Skills()[0].Code, "callers get a copy")

	require.Equal(t, []string{"independent", "needs_help"}, schema.EnumValues(schema.EnumTutoringOutcome))
	require.Equal(t, []string{"leader", "member"}, schema.EnumValues(schema.EnumRole))
	require.Len(t, schema.EnumValues(schema.EnumReportStatus), 6)
	require.Nil(t, schema.EnumValues("colour"))
}
