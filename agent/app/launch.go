package app

import (
	"html/template"
	"os"
	"sync"
)

// launchPage sends the browser on to the app. The command opens it
// rather than the URL itself, so that the launch secret is not on the
// command line of the browser's process, where another account on the
// laptop could read it. It is parsed when the app starts, not at every
// start of a command (package inits run before main: issue 20).
var launchPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("launch").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={{.}}"><title>Hamlet</title></head>
<body><p><a href="{{.}}">Hamlet</a></p></body></html>
`))
})

// WriteLaunchPage writes, at path (in the volunteer's data folder:
// readable by them only), a page that opens the app.
func (a *App) WriteLaunchPage(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = launchPage().Execute(f, template.URL(a.LaunchURL()))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
