// Package camau generates a realistic Cà Mau province for examples, tests and
// benchmarks: the real administrative units of 2022 and 2025 (schema's
// embedded reference data), hamlets under them, teams and members, households
// and the visits, tutoring records and field reports volunteers make.
//
// Everything is deterministic by seed, so a test or a benchmark names a
// province by its Scale and gets the same rows every time. Rows stream to a
// Sink so a 300,000-household province never has to sit in memory at once.
//
// The figures of the seeds (seed 004: 45 of 101 communes with teams, 343
// teams, 1,610 members; seed 002: 142 field reports in the first month, 97
// handled, 45 returned) are the Seed2023 scale.
//
// It imports schema alone of the module: never the server, a store or the
// agent (examples/camau/loader puts a province into a server).
package camau
