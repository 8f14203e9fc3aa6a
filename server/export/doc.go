// Package export writes the tables leaders download as CSV and XLSX, with
// Vietnamese column headers by default and English on request.
//
// XLSX is written with excelize's stream writer: a province's hamlet table
// (about 860 rows) or a report list of 50,000 rows is written row by row
// without building the workbook in memory.
//
// It writes what it is given: it must never import the server package, a
// store or an HTTP package (server/api calls it with the read model's rows).
package export
