package migration

// FileName is fileName, for the tests.
var FileName = fileName
