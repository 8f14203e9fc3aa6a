package fieldcode

import "sync"

var names = [...]string{"",
	"_deleted", "active", "address", "agency", "category", "consent_disclose", "description", "dispatched_at",
	"hamlet_code", "has_ehealth_record", "has_smartphone", "head_name", "household_id", "lat", "lng", "location",
	"members_count", "notes", "occurred_at", "outcome", "person_name", "phone", "photos", "registered_on",
	"reporter_name", "reporter_phone", "resolved_at", "satisfaction", "skill", "status", "status_reason",
	"submitted_at", "taught_on", "uses_cashless", "uses_public_services", "visited_on", "vneid_installed",
	"vneid_level2", "volunteer_id", "uses_camau_g", "photo_digests",
}

// codes is built at the first use, not at every start of a command
// (package inits run before main: issue 20).
var codes = sync.OnceValue(func() map[string]uint64 {
	m := make(map[string]uint64, len(names))
	for i, f := range names {
		if i > 0 {
			m[f] = uint64(i)
		}
	}
	return m
})

// Code is the field's code, 0 if it has none.
func Code(name string) uint64 { return codes()[name] }

// Name is the field of a code; ok is false for 0 and unknown codes.
func Name(code uint64) (string, bool) {
	if code == 0 || code >= uint64(len(names)) {
		return "", false
	}
	return names[code], true
}

// Len is the number of codes (for tests).
func Len() int { return len(names) }
