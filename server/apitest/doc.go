// Package apitest holds the dashboard API to its OpenAPI document in
// tests: the document (server/api/openapi.yaml) must be a valid OpenAPI 3
// document, and every answer of /api/v1 a test receives through Transport
// must match it (status documented for the operation, content type, body
// schema), so a client generated from the document can trust it.
//
// It is a test helper: only tests import it. It must never import a store.
package apitest
