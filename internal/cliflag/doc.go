// Package cliflag is what hamlet-agent and hamlet-server share over the
// standard flag package, so that both speak to people the same way: flags
// and positional arguments in any order ("device revoke ID --data-dir
// x"), common options before the command, parse errors and help entirely
// in the chosen language (flag's own output is English: "flag provided
// but not defined", "Usage of enroll:", `(default "vm")`).
//
// It imports internal/i18n alone of the module: never the agent or the
// server, whose commands it parses.
package cliflag
