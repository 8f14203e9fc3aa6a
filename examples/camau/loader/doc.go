// Package loader puts a generated Cà Mau province (package camau) into a
// Hamlet server: the 2022 admin units, hamlets, teams and members, then every
// household, visit, tutoring record and field report as synced changes of a
// generator replica, in large batches through the server's push path, so the
// server's log holds them exactly as if a laptop had pushed them and agents
// clone them by pulling. Optionally the 2025 reorganisation is applied
// afterwards (Admin.ApplyReorganisation).
//
// It lives beside package camau, not in it, because it needs the server and
// the server's analytics tests use camau.
//
// It reaches the server through server.Admin alone: it must never import a
// store (the main or the test that runs it opens one) or an HTTP package.
package loader
