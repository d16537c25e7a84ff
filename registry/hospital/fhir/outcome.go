package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Errors a caller branches on with errors.Is. Every error this package
// returns for bad input is an [*Error] wrapping one of them.
var (
	// ErrInvalid: the JSON is not a valid FHIR R4 resource of the
	// expected shape (structure, cardinality, code, format, invariant).
	ErrInvalid = errors.New("invalid FHIR resource")
	// ErrUnsupported: a resource type, interaction or search parameter
	// this server does not support.
	ErrUnsupported = errors.New("not supported")
	// ErrOtherPatient: the resource or search names another patient than
	// the one the request is for.
	ErrOtherPatient = errors.New("refers to another patient")
	// ErrTooLarge: a resource or Bundle over the size limits.
	ErrTooLarge = errors.New("too large")
	// ErrBadCursor: a paging cursor that is malformed, expired, sealed
	// under another key or issued to another client.
	ErrBadCursor = errors.New("invalid paging cursor")
)

// OperationOutcome issue types (FHIR R4 issue-type codes) this package uses.
const (
	IssueInvalid       = "invalid"
	IssueStructure     = "structure"
	IssueRequired      = "required"
	IssueValue         = "value"
	IssueInvariant     = "invariant"
	IssueNotSupported  = "not-supported"
	IssueTooLong       = "too-long"
	IssueForbidden     = "forbidden"
	IssueSecurity      = "security"
	IssueLogin         = "login"
	IssueNotFound      = "not-found"
	IssueDeleted       = "deleted"
	IssueProcessing    = "processing"
	IssueException     = "exception"
	IssueTooCostly     = "too-costly"
	IssueDuplicate     = "duplicate"
	IssueConflict      = "conflict"
	IssueInformational = "informational"
)

// Issue is one OperationOutcome.issue. Diagnostics and Expression MUST
// NOT carry values from the request: only element paths, rule names and
// what to do.
type Issue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

// Error is a request that cannot be served, with the HTTP status and the
// OperationOutcome issues that say why. It wraps Kind (one of this
// package's sentinels, or another package's).
type Error struct {
	Status int
	Kind   error
	Issues []Issue
}

// Error joins the issues' diagnostics.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	for _, is := range e.Issues {
		b.WriteString(": ")
		if len(is.Expression) > 0 {
			b.WriteString(strings.Join(is.Expression, ", "))
			b.WriteString(": ")
		}
		b.WriteString(is.Diagnostics)
	}
	return b.String()
}

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

// Outcome returns the error as a FHIR R4 OperationOutcome (JSON).
func (e *Error) Outcome() []byte { return Outcome(e.Issues...) }

// Outcome writes a FHIR R4 OperationOutcome with the issues (at least one:
// an empty list becomes one informational "ok" issue, as FHIR requires
// issue 1..*).
func Outcome(issues ...Issue) []byte {
	if len(issues) == 0 {
		issues = []Issue{{Severity: "information", Code: IssueInformational, Diagnostics: "ok"}}
	}
	b, _ := json.Marshal(struct {
		ResourceType string  `json:"resourceType"`
		Issue        []Issue `json:"issue"`
	}{"OperationOutcome", issues})
	return b
}

// Errorf returns an [*Error] with one error-severity issue. The message
// MUST NOT contain request values (see [Issue]).
func Errorf(status int, kind error, code string, expr string, format string, args ...any) *Error {
	is := Issue{Severity: "error", Code: code, Diagnostics: fmt.Sprintf(format, args...)}
	if expr != "" {
		is.Expression = []string{expr}
	}
	return &Error{Status: status, Kind: kind, Issues: []Issue{is}}
}

func invalid(expr, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, ErrInvalid, IssueInvalid, expr, format, args...)
}

func invariant(expr, key, rule string) *Error {
	return Errorf(http.StatusUnprocessableEntity, ErrInvalid, IssueInvariant, expr, "%s: %s", key, rule)
}

func otherPatient(expr, format string, args ...any) *Error {
	return Errorf(http.StatusUnprocessableEntity, ErrOtherPatient, IssueForbidden, expr, format, args...)
}

// AsError returns err as an [*Error]: itself, or a 500 with a generic
// issue that does not repeat err's text (it may come from a lower layer
// that does not know what must not be echoed).
func AsError(err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return Errorf(http.StatusInternalServerError, err, IssueException, "", "the server could not process the request")
}
