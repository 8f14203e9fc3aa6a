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
// whose every command pays its package init: 2.7 MB of the binary, and on
// this project's 2-core machine about 5 ms, 1.3 MB in 21,000 allocations
// and 400 of status's 1,200 page faults (issue 20; a build without it
// took 28.6 ms of CPU for status where the same code with it took 35.8).
package importfile
