package did

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
)

// ariesProven reports whether data is in the part of the document space for
// which aries' did.ParseDocument is known to accept whatever [ParseDocument]
// accepted, so that running aries on it again would only cost time: d (the
// result of our own parse and [Document.Validate] of data) has the shape
// medid writes, and the JSON value of data is exactly the JSON value of
// d's own serialisation ([Document.MarshalJSON]), i.e. nothing in data was
// dropped or normalised by our parse.
//
// The shape: the DID Core context first (our Validate requires it), only
// Multikey / Ed25519VerificationKey2020 methods (publicKeyMultibase), every
// relationship a string reference, no alsoKnownAs, no services and no
// members we do not model. Everything else (services, JWKs, embedded
// methods, legacy members, other software's documents) still goes through
// aries.
//
// Aries' verdict is a function of the JSON value only (it decodes with
// encoding/json, as gojsonschema does), so equal values get equal verdicts.
// That aries accepts the serialisation of every valid document of this
// shape is checked by TestAriesAcceptsProvenDocuments and
// FuzzAriesProvenAccepted (a fast-path document aries rejects fails them).
func ariesProven(data []byte, d *Document) bool {
	if len(d.AlsoKnownAs) > 0 || len(d.Service) > 0 || len(d.Context) == 0 || d.Context[0] != ContextDIDv1 {
		return false
	}
	for i, c := range d.Context {
		if slices.Contains(d.Context[:i], c) { // aries' schema: uniqueItems
			return false
		}
	}
	for i := range d.VerificationMethod {
		switch d.VerificationMethod[i].Type {
		case TypeMultikey, TypeEd25519VerificationKey2020:
		default:
			return false
		}
	}
	w, err := d.wire()
	if err != nil {
		return false
	}
	// Byte equality implies value equality: first against our own
	// serialisation in MarshalJSON's order, then with its members in sorted
	// order (the order of RFC 8785 and of encoding/json maps, in which the
	// registry and most tools write documents); only then compare values.
	own, err := encodeJSON(w)
	if err != nil {
		return false
	}
	if bytes.Equal(own, data) {
		return true
	}
	if sorted, err := encodeJSON(w.sorted()); err == nil && bytes.Equal(sorted, data) {
		return true
	}
	a, ok := jsonValue(data)
	if !ok {
		return false
	}
	b, ok := jsonValue(own)
	return ok && reflect.DeepEqual(a, b)
}

// jsonValue decodes data as one generic JSON value, numbers kept as text.
func jsonValue(data []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if dec.More() {
		return nil, false
	}
	return v, true
}

// sortedDocument and sortedMethod are wireDocument and wireMethod with
// their members in sorted (RFC 8785) order; see ariesProven.
type sortedDocument struct {
	Context              []string       `json:"@context"`
	AlsoKnownAs          []string       `json:"alsoKnownAs,omitempty"`
	AssertionMethod      []string       `json:"assertionMethod,omitempty"`
	Authentication       []string       `json:"authentication,omitempty"`
	CapabilityDelegation []string       `json:"capabilityDelegation,omitempty"`
	CapabilityInvocation []string       `json:"capabilityInvocation,omitempty"`
	Controller           []string       `json:"controller,omitempty"`
	ID                   string         `json:"id"`
	KeyAgreement         []string       `json:"keyAgreement,omitempty"`
	Service              []wireService  `json:"service,omitempty"`
	VerificationMethod   []sortedMethod `json:"verificationMethod,omitempty"`
}

type sortedMethod struct {
	Controller         string          `json:"controller"`
	ID                 string          `json:"id"`
	PublicKeyBase58    string          `json:"publicKeyBase58,omitempty"`
	PublicKeyJwk       json.RawMessage `json:"publicKeyJwk,omitempty"`
	PublicKeyMultibase string          `json:"publicKeyMultibase,omitempty"`
	Type               string          `json:"type"`
}

func (w *wireDocument) sorted() *sortedDocument {
	s := &sortedDocument{
		Context:              w.Context,
		AlsoKnownAs:          w.AlsoKnownAs,
		AssertionMethod:      w.AssertionMethod,
		Authentication:       w.Authentication,
		CapabilityDelegation: w.CapabilityDelegation,
		CapabilityInvocation: w.CapabilityInvocation,
		Controller:           w.Controller,
		ID:                   w.ID,
		KeyAgreement:         w.KeyAgreement,
		Service:              w.Service,
	}
	for _, m := range w.VerificationMethod {
		s.VerificationMethod = append(s.VerificationMethod, sortedMethod{Controller: m.Controller, ID: m.ID,
			PublicKeyBase58: m.PublicKeyBase58, PublicKeyJwk: m.PublicKeyJwk, PublicKeyMultibase: m.PublicKeyMultibase, Type: m.Type})
	}
	return s
}
