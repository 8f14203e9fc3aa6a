// Package replicas is a server store's numbering of replica ids: the log,
// the row versions and the change digests keep a small integer per replica
// instead of its 16 bytes (the replicas table maps one to the other). Both
// stores keep the mapping in memory the same way; only how they read and
// add a row of that table is their own. It must never import a store or a
// driver: it imports syncproto alone of the module.
package replicas
