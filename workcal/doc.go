// Package workcal measures time the way Vietnam's field-report rules do:
// in working hours on working days, and in plain hours on days off.
//
// The working week and office hours are data (a JSON calendar file), since
// provinces set their own. Public holidays are computed for any year from
// the Labour Code 2019 and the Vietnamese lunar calendar (lunar.go); the
// government's yearly schedules, with their bridge days and make-up
// Saturdays, are data too (Schedule: embedded for 2024–2026, imported by
// the operator for later years) and take precedence in the years they cover.
//
// workcal is pure: it never reads the wall clock, the network, a file or a
// database, and imports no package of the module (internal/archtest holds
// it to that); the schedules a deployment adds reach it as bytes.
package workcal
