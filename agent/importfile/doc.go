// Package importfile reads the spreadsheets teams keep their household
// lists in (CSV as Excel or LibreOffice save it, or an .xlsx workbook) into
// rows of text with their line numbers, for agent.Replica.Import: the CLI's
// `hamlet-agent import` and, from its upload, the volunteer's web app.
//
// It knows nothing of fields, hamlets or the replica: mapping columns to
// fields and checking rows is package agent's. It never imports agent,
// schema, server or a database driver, and package agent never imports
// it. Nor does it import excelize, the server's export library, outside
// its tests (which compare the two readers): linked into hamlet-agent,
// excelize's package init cost every command about 5-10 ms and 1.3 MB in
// 21,000 allocations (issue 20); xlsx.go reads what a household list
// needs.
package importfile
