// Package importfile reads the spreadsheets teams keep their household
// lists in (CSV as Excel or LibreOffice save it, or an .xlsx workbook) into
// rows of text with their line numbers, for agent.Replica.Import: the CLI's
// `hamlet-agent import` and, from its upload, the volunteer's web app.
//
// It knows nothing of fields, hamlets or the replica: mapping columns to
// fields and checking rows is package agent's. It never imports agent,
// schema, server or a database driver, and package agent never imports
// it, so the XLSX reader (excelize, the server's export library) stays
// out of the replica's package. It is still linked into hamlet-agent,
// whose every command pays its start-up (about 1.2 ms and 2.7 MB of the
// binary, measured in issue 20).
package importfile
