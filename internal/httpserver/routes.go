package httpserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ProblemBase prefixes the problem types this package writes.
const ProblemBase = "https://medid.dev/problems/"

// problemBody is an RFC 9457 problem details object.
type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// problemTypes name the statuses this package answers with.
var problemTypes = map[int]string{
	http.StatusNotFound:              "not-found",
	http.StatusMethodNotAllowed:      "method-not-allowed",
	http.StatusForbidden:             "client-certificate-required",
	http.StatusRequestEntityTooLarge: "too-large",
}

// Problem writes an RFC 9457 problem object (application/problem+json)
// with status and detail; its type is ProblemBase plus a name for the
// status.
func Problem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	name, ok := problemTypes[status]
	if !ok {
		name = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "-"))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problemBody{Type: ProblemBase + name, Title: http.StatusText(status), Status: status, Detail: detail})
}

// ErrorWriter writes the answer for an unknown path (404) or a known path
// asked with a method it does not serve (405: the Allow header is already
// set). detail says what was wrong and what to do.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, status int, detail string)

// probeMethods are the methods [Fallback] tries when a request matched no
// pattern. OPTIONS is answered by Fallback itself for every known path.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// Fallback registers the catch-all pattern "/" on mux so that a request no
// route matches is answered by write with 404, a request for a known path
// with a method it does not serve with 405 and an Allow header listing the
// methods it does (HEAD wherever GET is served), and OPTIONS on a known
// path with 204 and the same Allow header. The mux MUST NOT have a "/"
// pattern of its own; routes may be registered before or after (the
// catch-all only answers what nothing more specific matches). nil write
// means [Problem].
//
// Go's ServeMux answers 405 by itself only when it has no catch-all; a
// service that wants its own error format needs a catch-all, which would
// otherwise turn every wrong method into a 404.
func Fallback(mux *http.ServeMux, write ErrorWriter) {
	if write == nil {
		write = Problem
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		allow := allowed(mux, r)
		if len(allow) == 0 {
			write(w, r, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		write(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s: use %s", r.Method, r.URL.Path, strings.Join(allow, ", ")))
	})
}

// allowed lists the methods mux serves r's path with (patterns other than
// the catch-all "/"), plus OPTIONS when there is any; nil when the path is
// unknown.
func allowed(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	probe := *r
	for _, m := range probeMethods {
		probe.Method = m
		if _, pat := mux.Handler(&probe); pat != "" && pat != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		allow = append(allow, http.MethodOptions)
	}
	return allow
}

// Deadlines gives the requests h serves their own read and write deadlines,
// counted from when h is called (after the request headers), instead of
// the server's ReadTimeout and WriteTimeout: longer for a route that waits
// for a block or receives a large body, shorter for one that should
// answer at once. A zero duration keeps the server's deadline. The
// ResponseWriter must reach the connection (directly or via Unwrap);
// otherwise the server's deadlines stay in force.
func Deadlines(h http.Handler, read, write time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		if read > 0 {
			_ = rc.SetReadDeadline(now.Add(read))
		}
		if write > 0 {
			_ = rc.SetWriteDeadline(now.Add(write))
		}
		h.ServeHTTP(w, r)
	})
}

// RequireClientCert serves h only to clients that presented a certificate
// the server verified against its client CA, when the request came through
// a [Server] with mutual TLS on; other clients get 403 with a problem
// object saying what to present. Without mutual TLS (plain HTTP, TLS
// without a client CA, or a handler not served by a [Server]) it is h.
// Which routes carry this wrapper is each service's policy, written next to
// its routes and in docs/design/0014-http-hardening-and-tls.md.
func RequireClientCert(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mutualTLS(r.Context()) && (r.TLS == nil || len(r.TLS.VerifiedChains) == 0) {
			Problem(w, r, http.StatusForbidden, "this endpoint requires a client certificate issued by the CA this server trusts (mutual TLS): with medid, give --client-cert FILE --client-key FILE (or set MEDID_CLIENT_CERT and MEDID_CLIENT_KEY)")
			return
		}
		h.ServeHTTP(w, r)
	})
}
