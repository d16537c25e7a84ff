package fhir

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
)

// Version is the FHIR version this package reads and writes.
const Version = "4.0.1"

// MaxDepth bounds how deeply elements may nest in a resource.
const MaxDepth = 48

// The library's unmarshaller and marshaller hold configuration only and
// are used read-only after construction, so one of each serves every
// goroutine.
var (
	codecOnce sync.Once
	unmarsh   *jsonformat.Unmarshaller
	marsh     *jsonformat.Marshaller
	codecErr  error
)

func codec() (*jsonformat.Unmarshaller, *jsonformat.Marshaller, error) {
	codecOnce.Do(func() {
		unmarsh, codecErr = jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
		if codecErr != nil {
			return
		}
		unmarsh.MaxNestingDepth = MaxDepth
		marsh, codecErr = jsonformat.NewMarshaller(false, "", "", fhirversion.R4)
	})
	return unmarsh, marsh, codecErr
}

// decode parses and validates one FHIR R4 resource with the library:
// structure, unknown elements, cardinality, required fields, primitive
// formats, codes of required bindings and reference target types.
func decode(data []byte) (*bcrpb.ContainedResource, *Error) {
	u, _, err := codec()
	if err != nil {
		return nil, AsError(err)
	}
	if !json.Valid(data) {
		return nil, invalid("", "the body is not JSON")
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, invalid("", "the body must be a JSON object (a FHIR resource)")
	}
	msg, err := u.Unmarshal(data)
	if err != nil {
		return nil, libraryError(err)
	}
	cr, ok := msg.(*bcrpb.ContainedResource)
	if !ok || resourceOf(cr) == nil {
		return nil, invalid("", "not a FHIR R4 resource")
	}
	return cr, nil
}

// encode writes a resource as FHIR R4 JSON.
func encode(cr *bcrpb.ContainedResource) ([]byte, error) {
	_, m, err := codec()
	if err != nil {
		return nil, err
	}
	return m.Marshal(cr)
}

// resourceOf returns the resource set in a ContainedResource, or nil.
func resourceOf(cr *bcrpb.ContainedResource) protoreflect.Message {
	m := cr.ProtoReflect()
	od := m.Descriptor().Oneofs().ByName("oneof_resource")
	if od == nil {
		return nil
	}
	f := m.WhichOneof(od)
	if f == nil {
		return nil
	}
	return m.Get(f).Message()
}

// The library's error messages are "error at \"<path>\": <details>", one
// per line; its details are fixed phrases meant to carry no health data,
// but some lower layers format values in. Only messages of the known
// shapes are passed on; anything else becomes a generic phrase with the
// path alone.
var (
	libLine    = regexp.MustCompile(`^error at "([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*|\[[0-9]+\])*)": (.*)$`)
	libDetails = []*regexp.Regexp{
		regexp.MustCompile(`^missing required field "[A-Za-z_]+"$`),
		regexp.MustCompile(`^invalid reference to a [A-Za-z]+ resource, want [A-Za-z, ]+$`),
		regexp.MustCompile(`^(expected|invalid) [A-Za-z0-9 -]+$`),
		regexp.MustCompile(`^(unknown field|unknown resource type|code type mismatch|unexpected reference|expected UTF-8 encoding)$`),
		regexp.MustCompile(`^field exceeded the maximum nesting depth [0-9]+$`),
		regexp.MustCompile(`^cannot accept multiple values for [a-z_]+ field$`),
		regexp.MustCompile(`^string exceeds maximum size of 1 MB$`),
		regexp.MustCompile(`^(non-negative )?integer out of range [0-9,.]+$`),
		regexp.MustCompile(`^array length mismatch, expected [0-9]+, found [0-9]+$`),
		regexp.MustCompile(`^string contains invalid characters: U\+[0-9A-F]{4,6}$`),
	}
)

func libraryError(err error) *Error {
	e := &Error{Status: http.StatusBadRequest, Kind: ErrInvalid}
	for _, line := range strings.Split(err.Error(), "\n") {
		if len(e.Issues) == 20 {
			e.Issues = append(e.Issues, Issue{Severity: "error", Code: IssueInvalid, Diagnostics: "more errors not listed"})
			break
		}
		is := Issue{Severity: "error", Code: IssueStructure, Diagnostics: "does not match the FHIR R4 definition of this element"}
		m := libLine.FindStringSubmatch(line)
		if m == nil {
			is.Diagnostics = "the JSON does not match the FHIR R4 definition of the resource"
			e.Issues = append(e.Issues, is)
			continue
		}
		is.Expression = []string{m[1]}
		for _, re := range libDetails {
			if re.MatchString(m[2]) {
				is.Diagnostics = m[2]
				break
			}
		}
		if strings.HasPrefix(m[2], "missing required field") {
			is.Code = IssueRequired
		} else if m[2] == "code type mismatch" {
			is.Code, is.Diagnostics = IssueValue, "code is not in the required value set"
		}
		e.Issues = append(e.Issues, is)
	}
	if len(e.Issues) == 0 {
		e.Issues = []Issue{{Severity: "error", Code: IssueStructure, Diagnostics: "the JSON does not match the FHIR R4 definition of the resource"}}
	}
	return e
}

// clone deep-copies a resource message.
func clone[T proto.Message](m T) T { return proto.Clone(m).(T) }

// Validate checks that data is a valid FHIR R4 resource of any type, by
// the library's rules only (structure, cardinality, required bindings on
// codes, formats, reference target types): what the vault's own writers
// (AuditEvents, Consents, Bundles) are checked with. Errors are [*Error]s.
func Validate(data []byte) error {
	if _, err := decode(data); err != nil {
		return err
	}
	return nil
}
