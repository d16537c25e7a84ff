package fhir

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	cpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/codes_go_proto"
	dpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	patpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/patient_go_proto"
)

// Methods of a transaction entry the vault accepts.
const (
	MethodCreate = "POST"
	MethodUpdate = "PUT"
	MethodDelete = "DELETE"
)

// idPattern is FHIR's id type.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// ValidID reports whether s is a FHIR logical id ([A-Za-z0-9\-\.]{1,64}).
func ValidID(s string) bool { return idPattern.MatchString(s) }

// Patients maps between the logical ids of Patient resources on this
// server and patients' DIDs. Implementations MUST be safe for concurrent
// use.
type Patients interface {
	// DIDOf returns the DID of the patient with Patient resource id.
	DIDOf(id string) (did string, ok bool)
	// IDOf returns the logical id of the patient's Patient resource.
	IDOf(did string) (id string, ok bool)
}

// Entry is one checked entry of a transaction Bundle.
type Entry struct {
	// FullURL is the entry's fullUrl ("" when absent).
	FullURL string
	// Method is MethodCreate, MethodUpdate or MethodDelete.
	Method string
	// Type is the resource type the entry acts on; ID the logical id for an
	// update or a delete ("" for a create).
	Type, ID string
	// Resource is the resource to create or update (nil for a delete).
	Resource *Resource
}

// Transaction is a checked transaction Bundle: every entry is for Patient.
type Transaction struct {
	Patient Patient
	Entries []Entry
}

// ParseTransaction parses data as a FHIR R4 Bundle of type transaction,
// at most [MaxBundleSize] bytes and [MaxBundleEntries] entries, and checks
// it is a write for exactly one patient: the patient is the one of the
// Bundle's Patient entry (by its DID identifier), or the one every
// record's patient element names (Patient/{id} known to pts, a DID
// identifier, or the fullUrl of the Patient entry); each resource is
// checked as [ParseResource] checks it, with urn:uuid references resolved
// against the Bundle's fullUrls. Entries are POST {type}, PUT {type}/{id}
// (the resource's id must be id) or DELETE {type}/{id}; conditional
// operations, GET and PATCH are refused. pts may be nil. Errors are
// [*Error]s; a refused Bundle is refused whole.
func ParseTransaction(data []byte, pts Patients) (*Transaction, error) {
	if len(data) > MaxBundleSize {
		return nil, Errorf(http.StatusRequestEntityTooLarge, ErrTooLarge, IssueTooLong, "", "the Bundle is %d bytes, the limit is %d", len(data), MaxBundleSize)
	}
	cr, ferr := decode(data)
	if ferr != nil {
		return nil, ferr
	}
	b := cr.GetBundle()
	if b == nil {
		return nil, invalid("", "POST to the FHIR base takes a Bundle of type transaction")
	}
	if b.GetType().GetValue() != cpb.BundleTypeCode_TRANSACTION {
		return nil, Errorf(http.StatusBadRequest, ErrUnsupported, IssueNotSupported, "Bundle.type", "this server processes Bundles of type transaction only")
	}
	n := len(b.GetEntry())
	if n == 0 {
		return nil, invalid("Bundle.entry", "a transaction needs at least one entry")
	}
	if n > MaxBundleEntries {
		return nil, Errorf(http.StatusRequestEntityTooLarge, ErrTooLarge, IssueTooCostly, "Bundle.entry", "%d entries, the limit is %d", n, MaxBundleEntries)
	}
	t := &Transaction{Entries: make([]Entry, n)}
	c := &refs{local: map[string]bool{}}
	var patientEntry *patpb.Patient
	for i, e := range b.GetEntry() {
		path := fmt.Sprintf("Bundle.entry[%d]", i)
		en, err := parseEntry(e, path)
		if err != nil {
			return nil, err
		}
		if en.FullURL != "" {
			if c.local[en.FullURL] {
				return nil, invalid(path+".fullUrl", "two entries have the same fullUrl")
			}
			c.local[en.FullURL] = true
		}
		if pt := e.GetResource().GetPatient(); pt != nil {
			if patientEntry != nil {
				return nil, otherPatient(path, "a transaction is for one patient: it may hold one Patient resource")
			}
			patientEntry, c.patientURL = pt, en.FullURL
		}
		t.Entries[i] = en
	}
	delete(c.local, c.patientURL)
	p, ferr := transactionPatient(b, t.Entries, patientEntry, c.patientURL, pts)
	if ferr != nil {
		return nil, ferr
	}
	c.p, t.Patient = p, p
	for i, e := range b.GetEntry() {
		if e.GetResource() == nil {
			continue
		}
		r, ferr := check(e.GetResource(), c)
		if ferr != nil {
			return nil, prefixed(ferr, fmt.Sprintf("Bundle.entry[%d].resource", i))
		}
		if r.typ != t.Entries[i].Type {
			return nil, invalid(fmt.Sprintf("Bundle.entry[%d].request.url", i), "names another resource type than the entry's resource")
		}
		if t.Entries[i].Method == MethodUpdate && r.ID() != t.Entries[i].ID {
			return nil, invalid(fmt.Sprintf("Bundle.entry[%d].resource.id", i), "must equal the id in request.url of an update")
		}
		t.Entries[i].Resource = r
	}
	return t, nil
}

// prefixed rewrites the issues' expressions of a resource inside a Bundle.
func prefixed(e *Error, prefix string) *Error {
	out := *e
	out.Issues = make([]Issue, len(e.Issues))
	for i, is := range e.Issues {
		is.Expression = append([]string(nil), is.Expression...)
		for j, x := range is.Expression {
			is.Expression[j] = prefix + "(" + x + ")"
		}
		out.Issues[i] = is
	}
	return &out
}

func parseEntry(e *bcrpb.Bundle_Entry, path string) (Entry, *Error) {
	en := Entry{FullURL: e.GetFullUrl().GetValue()}
	req := e.GetRequest()
	if req == nil {
		return en, invalid(path+".request", "every transaction entry needs a request (method and url)")
	}
	u := req.GetUrl().GetValue()
	if strings.ContainsAny(u, "?#") || req.GetIfNoneExist() != nil || req.GetIfMatch() != nil || req.GetIfNoneMatch() != nil || req.GetIfModifiedSince() != nil {
		return en, Errorf(http.StatusBadRequest, ErrUnsupported, IssueNotSupported, path+".request", "conditional operations are not supported")
	}
	typ, id, hasID := strings.Cut(u, "/")
	if !Supported(typ) {
		return en, Errorf(http.StatusBadRequest, ErrUnsupported, IssueNotSupported, path+".request.url", "this server stores %s only", strings.Join(Types, ", "))
	}
	en.Type = typ
	switch req.GetMethod().GetValue() {
	case cpb.HTTPVerbCode_POST:
		en.Method = MethodCreate
		if hasID {
			return en, invalid(path+".request.url", "a create (POST) names the resource type only")
		}
	case cpb.HTTPVerbCode_PUT, cpb.HTTPVerbCode_DELETE:
		en.Method = MethodUpdate
		if req.GetMethod().GetValue() == cpb.HTTPVerbCode_DELETE {
			en.Method = MethodDelete
		}
		if !hasID || !ValidID(id) {
			return en, invalid(path+".request.url", "an update or delete names {type}/{id} with a FHIR id")
		}
		en.ID = id
	default:
		return en, Errorf(http.StatusBadRequest, ErrUnsupported, IssueNotSupported, path+".request.method", "transactions here create (POST), update (PUT) or delete (DELETE)")
	}
	if (en.Method == MethodDelete) != (e.GetResource() == nil) {
		return en, invalid(path+".resource", "a create or update carries a resource, a delete none")
	}
	if u := en.FullURL; u != "" && !strings.HasPrefix(u, "urn:uuid:") && !strings.HasPrefix(u, "urn:oid:") && !strings.HasPrefix(u, "http") {
		return en, invalid(path+".fullUrl", "must be a urn:uuid, urn:oid or absolute URL")
	}
	return en, nil
}

// transactionPatient finds the one patient of a transaction.
func transactionPatient(b *bcrpb.Bundle, entries []Entry, pe *patpb.Patient, peURL string, pts Patients) (Patient, *Error) {
	dids := map[string]bool{}
	var p Patient
	if pe != nil {
		for _, idf := range pe.GetIdentifier() {
			if idf.GetSystem().GetValue() == SystemURI && strings.HasPrefix(idf.GetValue().GetValue(), "did:") {
				dids[idf.GetValue().GetValue()] = true
			}
		}
		p.ID = pe.GetId().GetValue()
	}
	for i, e := range b.GetEntry() {
		var ref *dpb.Reference
		res := e.GetResource()
		if res == nil {
			if entries[i].Type == "Patient" && pts != nil {
				if d, ok := pts.DIDOf(entries[i].ID); ok {
					dids[d] = true
				}
			}
			continue
		}
		r := resourceOf(res)
		if f := subjectField[string(r.Descriptor().Name())]; f != "" {
			fd := r.Descriptor().Fields().ByName(protoreflect.Name(f))
			if r.Has(fd) {
				ref = r.Get(fd).Message().Interface().(*dpb.Reference)
			}
		}
		if ref == nil {
			continue
		}
		switch {
		case ref.GetPatientId() != nil:
			id := ref.GetPatientId().GetValue()
			d, ok := "", false
			if pts != nil {
				d, ok = pts.DIDOf(id)
			}
			if !ok {
				return p, Errorf(http.StatusUnprocessableEntity, ErrOtherPatient, IssueNotFound, fmt.Sprintf("Bundle.entry[%d].resource", i), "refers to a Patient that is not on this server")
			}
			dids[d] = true
		case ref.GetUri() != nil && ref.GetUri().GetValue() == peURL && peURL != "":
			// the Patient entry: its DID is counted above
		case ref.GetIdentifier().GetSystem().GetValue() == SystemURI && strings.HasPrefix(ref.GetIdentifier().GetValue().GetValue(), "did:"):
			dids[ref.GetIdentifier().GetValue().GetValue()] = true
		}
	}
	if len(dids) > 1 {
		return p, otherPatient("Bundle.entry", "a transaction is for one patient; its entries name %d", len(dids))
	}
	for d := range dids {
		p.DID = d
	}
	if p.DID == "" {
		return p, Errorf(http.StatusUnprocessableEntity, ErrInvalid, IssueRequired, "Bundle.entry", "no entry names the patient by a DID identifier (system %s) or a Patient/{id} of this server", SystemURI)
	}
	if pts != nil {
		if id, ok := pts.IDOf(p.DID); ok {
			if p.ID != "" && p.ID != id {
				return p, otherPatient("Bundle.entry", "the Patient entry's id is another patient's")
			}
			p.ID = id
		}
	}
	return p, nil
}

// SearchEntry is one match of a search.
type SearchEntry struct {
	// FullURL is the resource's absolute URL ({base}/{type}/{id}).
	FullURL string
	// Resource is the resource's FHIR JSON.
	Resource json.RawMessage
}

// SearchSet writes a FHIR R4 Bundle of type searchset with a self link,
// a next link when next is not "", the timestamp and the entries (search
// mode match). total is written when it is not negative.
func SearchSet(self, next string, total int, at time.Time, entries []SearchEntry) ([]byte, error) {
	type link struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	}
	type search struct {
		Mode string `json:"mode"`
	}
	type entry struct {
		FullURL  string          `json:"fullUrl,omitempty"`
		Resource json.RawMessage `json:"resource"`
		Search   search          `json:"search"`
	}
	out := struct {
		ResourceType string  `json:"resourceType"`
		Type         string  `json:"type"`
		Timestamp    string  `json:"timestamp"`
		Total        *int    `json:"total,omitempty"`
		Link         []link  `json:"link"`
		Entry        []entry `json:"entry,omitempty"`
	}{ResourceType: "Bundle", Type: "searchset", Timestamp: at.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		Link: []link{{"self", self}}}
	if total >= 0 {
		out.Total = &total
	}
	if next != "" {
		out.Link = append(out.Link, link{"next", next})
	}
	for _, e := range entries {
		out.Entry = append(out.Entry, entry{FullURL: e.FullURL, Resource: e.Resource, Search: search{"match"}})
	}
	return json.Marshal(out)
}

// EntryResult is the outcome of one transaction entry.
type EntryResult struct {
	// Status is the HTTP status of the entry (201, 200, 204).
	Status int
	// Location is "{type}/{id}/_history/{version}" of a created or updated
	// resource ("" for a delete).
	Location     string
	Version      string
	LastModified time.Time
}

// TransactionResponse writes the FHIR R4 Bundle of type
// transaction-response for the results, in entry order.
func TransactionResponse(results []EntryResult) ([]byte, error) {
	type response struct {
		Status       string `json:"status"`
		Location     string `json:"location,omitempty"`
		Etag         string `json:"etag,omitempty"`
		LastModified string `json:"lastModified,omitempty"`
	}
	type entry struct {
		Response response `json:"response"`
	}
	out := struct {
		ResourceType string  `json:"resourceType"`
		Type         string  `json:"type"`
		Entry        []entry `json:"entry"`
	}{ResourceType: "Bundle", Type: "transaction-response"}
	for _, r := range results {
		e := entry{Response: response{Status: fmt.Sprintf("%d %s", r.Status, http.StatusText(r.Status)), Location: r.Location}}
		if r.Version != "" {
			e.Response.Etag = `W/"` + r.Version + `"`
		}
		if !r.LastModified.IsZero() {
			e.Response.LastModified = r.LastModified.UTC().Format("2006-01-02T15:04:05.000Z07:00")
		}
		out.Entry = append(out.Entry, e)
	}
	return json.Marshal(out)
}
