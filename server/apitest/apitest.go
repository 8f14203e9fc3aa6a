package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/hamlet-vn/hamlet/server/api"
)

// Prefix is where the API is served.
const Prefix = "/api/v1"

type spec struct {
	doc    *openapi3.T
	router routers.Router
}

var load = sync.OnceValues(func() (*spec, error) {
	openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.FileBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", openapi3filter.FileBodyDecoder)
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(api.OpenAPISpec())
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(l.Context); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	// The router matches request URLs against servers; the document's
	// relative server (/api/v1) is matched as a path on any host.
	doc.Servers = openapi3.Servers{{URL: "http://{host}" + Prefix, Variables: map[string]*openapi3.ServerVariable{"host": {Default: "localhost"}}},
		{URL: "https://{host}" + Prefix, Variables: map[string]*openapi3.ServerVariable{"host": {Default: "localhost"}}}}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return &spec{doc: doc, router: r}, nil
})

// Doc is the validated document.
func Doc() (*openapi3.T, error) {
	s, err := load()
	if err != nil {
		return nil, err
	}
	return s.doc, nil
}

// Transport returns a RoundTripper that sends through next (nil:
// http.DefaultTransport) and fails t for every /api/v1 answer that the
// document does not describe.
func Transport(t testing.TB, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{t: t, next: next}
}

// Client is an http.Client whose /api/v1 answers are checked (Transport).
func Client(t testing.TB) *http.Client {
	return &http.Client{Transport: Transport(t, nil)}
}

type transport struct {
	t    testing.TB
	next http.RoundTripper
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := tr.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, Prefix+"/") {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, rerr
	}
	if err := Check(req, resp.StatusCode, resp.Header, body); err != nil {
		tr.t.Errorf("%s %s → %d: the answer does not match openapi.yaml: %v\nbody: %.500s", req.Method, req.URL.RequestURI(), resp.StatusCode, err, body)
	}
	return resp, nil
}

// Check validates one answer of the API against the document: its
// operation must exist (an unknown path must be answered 404 with the
// error body), the status must be documented for it, and the content type
// and body must match.
func Check(req *http.Request, status int, header http.Header, body []byte) error {
	s, err := load()
	if err != nil {
		return err
	}
	u := *req.URL
	u.Host = "localhost"
	r := req.Clone(context.Background())
	r.URL = &url.URL{Scheme: "http", Host: "localhost", Path: u.Path, RawQuery: u.RawQuery}
	route, params, err := s.router.FindRoute(r)
	if err != nil {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			return fmt.Errorf("no operation %s %s in the document, and the answer is not 404/405: %w", req.Method, req.URL.Path, err)
		}
		return checkError(s.doc, header, body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// checkError checks an answer outside every operation against the Error
// schema.
func checkError(doc *openapi3.T, header http.Header, body []byte) error {
	ref := doc.Components.Schemas["Error"]
	if ref == nil {
		return fmt.Errorf("the document has no Error schema")
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("an error answer of type %q, not application/json", ct)
	}
	v, err := decodeJSON(body)
	if err != nil {
		return err
	}
	return ref.Value.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse())
}
