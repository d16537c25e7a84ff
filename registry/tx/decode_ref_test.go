package tx

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/jose"
)

// decodeReference is Decode as it was before the one-pass readers of
// decode.go (issue 19): every header and payload checked under ijson's
// policy and then decoded by encoding/json. It is kept verbatim so
// TestDecodeMatchesReference and FuzzDecodeMatchesReference can prove the
// two give the same transaction, or the same error, for every input.
func decodeReference(data []byte) (*Tx, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxSize)
	}
	j, err := jose.Split(string(data), MaxSize)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	hb, pb, sig := j.Header, j.Payload, j.Signature
	if len(sig) == 0 {
		return nil, fmt.Errorf("%w: unsigned (empty signature)", ErrMalformed)
	}
	var h Header
	if err := strictUnmarshal(hb, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if h.Alg != "EdDSA" && h.Alg != "ES256" {
		return nil, fmt.Errorf("%w: alg %.32q (use EdDSA or ES256)", ErrUnsupportedAlg, h.Alg)
	}
	if h.Typ != MediaType {
		return nil, fmt.Errorf("%w: typ %.64q, want %q", ErrMalformed, h.Typ, MediaType)
	}
	var p Payload
	if err := strictUnmarshal(pb, &p); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	kidDID, frag, ok := strings.Cut(h.Kid, "#")
	if !ok || frag == "" || kidDID != p.DID {
		return nil, fmt.Errorf("%w: kid %.128q must be a DID URL with a fragment of the acting DID %.128q", ErrMalformed, h.Kid, p.DID)
	}
	t := &Tx{
		Header:       h,
		Payload:      p,
		Raw:          data,
		Hash:         sha256.Sum256(data),
		ReplayID:     sha256.Sum256([]byte(pb)),
		signingInput: data[:len(j.SigningInput)],
		signature:    sig,
	}
	return t, nil
}

// sameDecode fails t unless Decode and decodeReference agree on data: the
// same transaction (every field, the document's bytes, empty versus absent
// slices), or errors with the same message and the same sentinel.
func sameDecode(t *testing.T, data []byte) {
	t.Helper()
	got, gerr := Decode(data)
	want, werr := decodeReference(data)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("verdicts differ on %q:\n new: %v\n ref: %v", data, gerr, werr)
	}
	if werr != nil {
		if gerr.Error() != werr.Error() {
			t.Fatalf("errors differ on %q:\n new: %v\n ref: %v", data, gerr, werr)
		}
		for _, s := range []error{ErrMalformed, ErrTooLarge, ErrUnsupportedAlg} {
			if errors.Is(gerr, s) != errors.Is(werr, s) {
				t.Fatalf("errors.Is(%v) differs on %q", s, data)
			}
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded transactions differ on %q:\n new: %#v\n ref: %#v", data, got, want)
	}
	if (got.Payload.Document == nil) != (want.Payload.Document == nil) ||
		(got.Payload.CredentialTypes == nil) != (want.Payload.CredentialTypes == nil) {
		t.Fatalf("nil versus empty differs on %q", data)
	}
}

// token assembles a compact JWS from header and payload JSON text and a
// fixed 64-byte signature.
func token(header, payload string) []byte {
	e := base64.RawURLEncoding
	return []byte(e.EncodeToString([]byte(header)) + "." + e.EncodeToString([]byte(payload)) + "." + e.EncodeToString(make([]byte, 64)))
}

const (
	refDID    = "did:medid:abc"
	refHeader = `{"alg":"EdDSA","typ":"medid-tx+jwt","kid":"did:medid:abc#key-1"}`
)

// decodeCases are header and payload texts at the edges of what the
// one-pass readers accept: each either takes the one-pass path with the
// same result or must fall back and fail (or succeed) the old way.
var decodeCases = []struct{ name, header, payload string }{
	{"plain create", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":{"id":"x","a":[1,2,{"b":null}]}}`},
	{"whitespace everywhere", " \t{ \"alg\" : \"EdDSA\" ,\n\"typ\":\"medid-tx+jwt\",\"kid\":\"did:medid:abc#key-1\" }\r\n", "\n{ \"type\" : \"did.create\" , \"did\":\"did:medid:abc\",\"nonce\":\"n\",\"document\": {\"id\" : \"x\"} } \n"},
	{"document null", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":null}`},
	{"document string", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":"x"}`},
	{"document number", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":12}`},
	{"document float", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":{"x":1.5}}`},
	{"document big integer", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":{"x":9007199254740992}}`},
	{"document duplicate", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":{"x":1,"x":2}}`},
	{"document bad utf8", refHeader, "{\"type\":\"did.create\",\"did\":\"did:medid:abc\",\"nonce\":\"n\",\"document\":{\"x\":\"\xff\"}}"},
	{"document lone surrogate", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":{"x":"\ud800"}}`},
	{"document deep", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":` + strings.Repeat("[", 199) + strings.Repeat("]", 199) + `}`},
	{"document too deep", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`},
	{"document truncated", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":{"x":1`},
	{"escaped nonce", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n\u0041","document":{}}`},
	{"escaped name", refHeader, `{"type":"did.create","d\u0069d":"did:medid:abc","nonce":"n","document":{}}`},
	{"non-ASCII nonce", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"nö","document":{}}`},
	{"bad utf8 nonce", refHeader, "{\"type\":\"did.create\",\"did\":\"did:medid:abc\",\"nonce\":\"n\xc3\",\"document\":{}}"},
	{"control in nonce", refHeader, "{\"type\":\"did.create\",\"did\":\"did:medid:abc\",\"nonce\":\"n\x01\",\"document\":{}}"},
	{"null nonce", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":null,"document":{}}`},
	{"number nonce", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":1,"document":{}}`},
	{"duplicate did", refHeader, `{"type":"did.create","did":"did:medid:abc","did":"did:medid:abc","nonce":"n","document":{}}`},
	{"case variant", refHeader, `{"type":"did.create","DID":"did:medid:abc","nonce":"n","document":{}}`},
	{"unknown member", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":{},"x":1}`},
	{"trailing data", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":{}} x`},
	{"trailing comma", refHeader, `{"type":"did.create","did":"did:medid:abc","nonce":"n","document":{},}`},
	{"array payload", refHeader, `[1]`},
	{"empty object", refHeader, `{}`},
	{"status list", refHeader, `{"type":"statuslist.publish","did":"did:medid:abc","nonce":"n","listId":"l","version":9007199254740991,"credential":"a.b.c"}`},
	{"version too big", refHeader, `{"type":"statuslist.publish","did":"did:medid:abc","nonce":"n","listId":"l","version":9007199254740992,"credential":"a.b.c"}`},
	{"version 17 digits", refHeader, `{"type":"statuslist.publish","did":"did:medid:abc","nonce":"n","listId":"l","version":10000000000000000,"credential":"a.b.c"}`},
	{"version negative", refHeader, `{"type":"statuslist.publish","did":"did:medid:abc","nonce":"n","listId":"l","version":-3,"credential":"a.b.c"}`},
	{"version -0", refHeader, `{"type":"statuslist.publish","did":"did:medid:abc","nonce":"n","listId":"l","version":-0,"credential":"a.b.c"}`},
	{"version 0", refHeader, `{"type":"statuslist.publish","did":"did:medid:abc","nonce":"n","listId":"l","version":0,"credential":"a.b.c"}`},
	{"version leading zero", refHeader, `{"type":"statuslist.publish","did":"did:medid:abc","nonce":"n","listId":"l","version":01,"credential":"a.b.c"}`},
	{"version fraction", refHeader, `{"type":"statuslist.publish","did":"did:medid:abc","nonce":"n","listId":"l","version":1.0,"credential":"a.b.c"}`},
	{"version exponent", refHeader, `{"type":"statuslist.publish","did":"did:medid:abc","nonce":"n","listId":"l","version":1e2,"credential":"a.b.c"}`},
	{"version string", refHeader, `{"type":"statuslist.publish","did":"did:medid:abc","nonce":"n","listId":"l","version":"1","credential":"a.b.c"}`},
	{"accredit", refHeader, `{"type":"issuer.accredit","did":"did:medid:abc","nonce":"n","issuer":"did:medid:abc","credentialTypes":["A","B"],"validFrom":"2026-01-01T00:00:00Z","accreditationId":"a"}`},
	{"accredit empty types", refHeader, `{"type":"issuer.accredit","did":"did:medid:abc","nonce":"n","issuer":"did:medid:abc","credentialTypes":[],"validFrom":"2026-01-01T00:00:00Z","accreditationId":"a"}`},
	{"empty types where none belong", refHeader, `{"type":"did.deactivate","did":"did:medid:abc","nonce":"n","prevVersionId":"1","credentialTypes":[]}`},
	{"accredit null type", refHeader, `{"type":"issuer.accredit","did":"did:medid:abc","nonce":"n","issuer":"did:medid:abc","credentialTypes":[null],"validFrom":"2026-01-01T00:00:00Z","accreditationId":"a"}`},
	{"accredit number type", refHeader, `{"type":"issuer.accredit","did":"did:medid:abc","nonce":"n","issuer":"did:medid:abc","credentialTypes":["A",1],"validFrom":"2026-01-01T00:00:00Z","accreditationId":"a"}`},
	{"accredit types not array", refHeader, `{"type":"issuer.accredit","did":"did:medid:abc","nonce":"n","issuer":"did:medid:abc","credentialTypes":"A","validFrom":"2026-01-01T00:00:00Z","accreditationId":"a"}`},
	{"audit", refHeader, `{"type":"audit.anchor","did":"did:medid:abc","nonce":"n","batchId":"b","root":"00","count":3}`},
	{"directory", refHeader, `{"type":"directory.suspend","did":"did:medid:abc","nonce":"n","org":"did:medid:abc","version":2,"reason":"r"}`},
	{"directory entry", refHeader, `{"type":"directory.add","did":"did:medid:abc","nonce":"n","org":"did:medid:abc","entry":{"legalName":"A","displayName":"A","kind":"hospital","country":"GB"}}`},
	{"proposal", refHeader, `{"type":"network.propose","did":"did:medid:abc","nonce":"n","proposal":{"id":"p","action":"governance.add","governance":"did:key:z"}}`},
	{"consent", `{"alg":"EdDSA","typ":"medid-tx+jwt","kid":"did:key:z6Mk#z6Mk"}`, `{"type":"consent.anchor","did":"did:key:z6Mk","nonce":"n","grantHash":"` + strings.Repeat("ab", 32) + `","validFrom":"2026-01-01T00:00:00Z"}`},
	{"approve", refHeader, `{"type":"network.approve","did":"did:medid:abc","nonce":"n","proposalId":"p"}`},
	{"header ES256", `{"alg":"ES256","typ":"medid-tx+jwt","kid":"did:medid:abc#k"}`, `{"type":"did.deactivate","did":"did:medid:abc","nonce":"n","prevVersionId":"1"}`},
	{"header alg none", `{"alg":"none","typ":"medid-tx+jwt","kid":"did:medid:abc#k"}`, `{"type":"did.deactivate","did":"did:medid:abc","nonce":"n","prevVersionId":"1"}`},
	{"header duplicate", `{"alg":"EdDSA","alg":"EdDSA","typ":"medid-tx+jwt","kid":"did:medid:abc#k"}`, `{}`},
	{"header unknown", `{"alg":"EdDSA","typ":"medid-tx+jwt","kid":"did:medid:abc#k","crit":["b64"]}`, `{}`},
	{"header case", `{"Alg":"EdDSA","typ":"medid-tx+jwt","kid":"did:medid:abc#k"}`, `{}`},
	{"header escaped", `{"alg":"Ed\u0044SA","typ":"medid-tx+jwt","kid":"did:medid:abc#key-1"}`, `{"type":"did.deactivate","did":"did:medid:abc","nonce":"n","prevVersionId":"1"}`},
	{"header null kid", `{"alg":"EdDSA","typ":"medid-tx+jwt","kid":null}`, `{"type":"did.deactivate","did":"did:medid:abc","nonce":"n","prevVersionId":"1"}`},
	{"header not object", `"x"`, `{}`},
	{"header empty object", `{}`, `{}`},
	{"header missing kid", `{"alg":"EdDSA","typ":"medid-tx+jwt"}`, `{"type":"did.deactivate","did":"did:medid:abc","nonce":"n","prevVersionId":"1"}`},
	{"kid of another DID", `{"alg":"EdDSA","typ":"medid-tx+jwt","kid":"did:medid:xyz#k"}`, `{"type":"did.deactivate","did":"did:medid:abc","nonce":"n","prevVersionId":"1"}`},
}

// TestDecodeMatchesReference runs every case, and every transaction the
// builders sign, through Decode and the old decoder, and checks that the
// plain ones really take the one-pass path.
func TestDecodeMatchesReference(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			sameDecode(t, token(c.header, c.payload))
		})
	}
	for _, raw := range builtTokens(t) {
		sameDecode(t, raw)
		j, err := jose.Split(string(raw), MaxSize)
		if err != nil {
			t.Fatal(err)
		}
		var h Header
		var p Payload
		if !decodeHeaderFast(j.Header, &h) {
			t.Errorf("a builder's header is not read in one pass: %s", j.Header)
		}
		if nested := strings.Contains(j.Payload, `"entry":`) || strings.Contains(j.Payload, `"proposal":`); decodePayloadFast(j.Payload, &p) == nested {
			t.Errorf("one-pass reader on a builder's payload (nested objects: %v): %s", nested, j.Payload)
		}
	}
	sameDecode(t, []byte("a.b.c"))
	sameDecode(t, nil)
	sameDecode(t, append(token(refHeader, `{}`), 'x'))
}

// builtTokens signs one payload of most types the way the builders write
// them.
func builtTokens(tb testing.TB) [][]byte {
	tb.Helper()
	k := testKey(tb, 1)
	d, doc, err := BindDocument([]byte(template))
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, p := range []*Payload{
		{Type: DIDCreate, DID: d, Nonce: "1", Document: doc},
		{Type: DIDUpdate, DID: d, Nonce: "2", Document: doc, PrevVersionID: "1"},
		{Type: DIDDeactivate, DID: d, Nonce: "3", PrevVersionID: "2"},
		{Type: IssuerAccredit, DID: d, Nonce: "4", Issuer: d, CredentialTypes: []string{"X"}, ValidFrom: "2026-01-01T00:00:00Z", AccreditationID: "a"},
		{Type: IssuerRevoke, DID: d, Nonce: "5", Issuer: d, AccreditationID: "a", RevokedAt: "2026-02-01T00:00:00Z"},
		{Type: StatusListPublish, DID: d, Nonce: "6", ListID: "l", Version: 1, Credential: "a.b.c"},
		{Type: AuditAnchor, DID: d, Nonce: "10", BatchID: "b", Root: strings.Repeat("cd", 32), Count: 12},
		{Type: DirectoryAdd, DID: d, Nonce: "7", Org: d, Entry: &DirectoryEntry{LegalName: "St Mary's", DisplayName: "St Mary's", Kind: KindHospital, Country: "GB",
			Roles: []Role{{Role: RoleVaultOperator, DID: "did:key:z6Mk"}}, Logo: &Logo{SHA256: strings.Repeat("0", 64), MediaType: "image/png"}}},
		{Type: DirectorySuspend, DID: d, Nonce: "8", Org: d, Version: 2, Reason: "under review"},
	} {
		raw, err := Sign(p, k, d+"#key-1")
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

// FuzzDecodeMatchesReference is the differential fuzz test of the
// one-pass readers: arbitrary header and payload JSON texts, framed as a
// token, and arbitrary raw tokens must decode to the same transaction or
// fail with the same error under Decode and the old decoder.
func FuzzDecodeMatchesReference(f *testing.F) {
	for _, c := range decodeCases {
		f.Add(c.header, c.payload, []byte(nil))
	}
	for _, raw := range builtTokens(f) {
		j, err := jose.Split(string(raw), MaxSize)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(j.Header, j.Payload, raw)
	}
	f.Fuzz(func(t *testing.T, header, payload string, raw []byte) {
		sameDecode(t, token(header, payload))
		sameDecode(t, raw)
	})
}
