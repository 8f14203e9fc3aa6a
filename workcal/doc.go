// Package workcal measures time the way Vietnam's field-report rules do:
// in working hours on working days, and in plain hours on days off.
//
// The working week, the office hours and the public holidays are data (a JSON
// calendar file), because provinces set their own office hours and the
// government announces Tết and the National Day bridge days each year. The
// embedded default covers 2026 and 2027.
//
// workcal is pure: it never reads the wall clock, the network or a database.
package workcal
