package tx

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// validateReference is Payload.Validate as it was before its member sets
// became precomputed bit sets (issue 19), kept verbatim so
// FuzzValidateMatchesReference can prove the two give the same verdict and
// the same message for every payload.
func validateReference(p *Payload) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrMalformed, p.Type, fmt.Sprintf(format, args...))
	}
	if p.DID == "" || len(p.DID) > MaxDIDLen || !strings.HasPrefix(p.DID, "did:") {
		return bad("did must be a DID of at most %d bytes", MaxDIDLen)
	}
	if p.Nonce == "" || len(p.Nonce) > MaxNonceLen {
		return bad("nonce must be 1 to %d bytes", MaxNonceLen)
	}
	has := map[string]bool{
		"document":        len(p.Document) > 0,
		"prevVersionId":   p.PrevVersionID != "",
		"issuer":          p.Issuer != "",
		"credentialTypes": len(p.CredentialTypes) > 0,
		"validFrom":       p.ValidFrom != "",
		"validUntil":      p.ValidUntil != "",
		"accreditationId": p.AccreditationID != "",
		"revokedAt":       p.RevokedAt != "",
		"listId":          p.ListID != "",
		"version":         p.Version != 0,
		"credential":      p.Credential != "",
		"grantHash":       p.GrantHash != "",
		"batchId":         p.BatchID != "",
		"root":            p.Root != "",
		"count":           p.Count != 0,
		"org":             p.Org != "",
		"entry":           p.Entry != nil,
		"filing":          len(p.Filing) > 0,
		"filingBlock":     len(p.FilingBlock) > 0,
		"reason":          p.Reason != "",
	}
	var required, optional []string
	switch p.Type {
	case DIDCreate:
		required = []string{"document"}
	case DIDUpdate:
		required = []string{"document", "prevVersionId"}
	case DIDDeactivate:
		required = []string{"prevVersionId"}
	case IssuerAccredit:
		required = []string{"issuer", "credentialTypes", "validFrom", "accreditationId"}
		optional = []string{"validUntil"}
	case IssuerRevoke:
		required = []string{"issuer", "accreditationId"}
		optional = []string{"revokedAt"}
	case StatusListPublish:
		required = []string{"listId", "version", "credential"}
	case ConsentAnchor:
		required = []string{"grantHash", "validFrom"}
		optional = []string{"validUntil"}
	case ConsentRevoke:
		required = []string{"grantHash"}
	case AuditAnchor:
		required = []string{"batchId", "root", "count"}
	case DirectoryAdd:
		required = []string{"org", "entry"}
	case DirectoryUpdate:
		required = []string{"org", "entry", "version"}
	case DirectorySuspend, DirectoryRemove:
		required = []string{"org", "version", "reason"}
	default:
		return fmt.Errorf("%w: %w %.64q", ErrMalformed, errUnknownType, p.Type)
	}
	allowed := map[string]bool{}
	for _, f := range required {
		if !has[f] {
			return bad("%s is required", f)
		}
		allowed[f] = true
	}
	for _, f := range optional {
		allowed[f] = true
	}
	for _, f := range sortedKeys(has) {
		if has[f] && !allowed[f] {
			return bad("%s is not allowed", f)
		}
	}
	if has["document"] && p.Document[0] != '{' {
		return bad("document must be a JSON object")
	}
	if len(p.PrevVersionID) > MaxIDLen {
		return bad("prevVersionId longer than %d bytes", MaxIDLen)
	}
	if has["issuer"] && (len(p.Issuer) > MaxDIDLen || !strings.HasPrefix(p.Issuer, "did:")) {
		return bad("issuer must be a DID of at most %d bytes", MaxDIDLen)
	}
	if len(p.CredentialTypes) > MaxCredTypes {
		return bad("at most %d credentialTypes", MaxCredTypes)
	}
	seen := map[string]bool{}
	for _, ct := range p.CredentialTypes {
		if ct == "" || len(ct) > MaxIDLen || seen[ct] {
			return bad("credentialTypes must be distinct non-empty names of at most %d bytes", MaxIDLen)
		}
		seen[ct] = true
	}
	var from, until time.Time
	for _, f := range []struct {
		name string
		val  string
		dst  *time.Time
	}{{"validFrom", p.ValidFrom, &from}, {"validUntil", p.ValidUntil, &until}, {"revokedAt", p.RevokedAt, nil}} {
		if f.val == "" {
			continue
		}
		t, err := ParseTime(f.val)
		if err != nil {
			return bad("%s: %v", f.name, err)
		}
		if f.dst != nil {
			*f.dst = t
		}
	}
	if !until.IsZero() && !until.After(from) {
		return bad("validUntil must be after validFrom")
	}
	if has["accreditationId"] && !validID(p.AccreditationID) {
		return bad("accreditationId must be 1 to %d of [A-Za-z0-9._:-]", MaxIDLen)
	}
	if has["listId"] && !validID(p.ListID) {
		return bad("listId must be 1 to %d of [A-Za-z0-9._:-]", MaxIDLen)
	}
	if p.Version < 0 {
		return bad("version must be positive")
	}
	if p.Type == AuditAnchor {
		if msg := validAudit(p); msg != "" {
			return bad("%s", msg)
		}
	}
	if IsDirectory(p.Type) {
		if msg := validDirectory(p); msg != "" {
			return bad("%s", msg)
		}
	}
	if has["grantHash"] && !ValidGrantHash(p.GrantHash) {
		return bad("grantHash must be 64 lowercase hex digits (SHA-256 of the grant token)")
	}
	if (p.Type == ConsentAnchor || p.Type == ConsentRevoke) && !strings.HasPrefix(p.DID, "did:key:") {
		return bad("the acting DID must be the grant's anchor did:key (made for this grant alone), not %.128s: a registered DID would link the patient's consents", p.DID)
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// insertion sort: tiny fixed set, and no reliance on map order.
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// validatePayloads are payloads of every type, valid and not.
func validatePayloads() []Payload {
	doc := json.RawMessage(`{"id":"did:medid:x"}`)
	base := func(t Type) Payload { return Payload{Type: t, DID: "did:medid:abc", Nonce: "n"} }
	var out []Payload
	for _, t := range []Type{DIDCreate, DIDUpdate, DIDDeactivate, IssuerAccredit, IssuerRevoke, StatusListPublish,
		ConsentAnchor, ConsentRevoke, AuditAnchor, DirectoryAdd, DirectoryUpdate, DirectorySuspend, DirectoryRemove, "other", ""} {
		p := base(t)
		out = append(out, p)
		full := p
		full.Document, full.PrevVersionID, full.Issuer, full.CredentialTypes = doc, "1", "did:key:z6Mk", []string{"A"}
		full.ValidFrom, full.ValidUntil, full.AccreditationID, full.RevokedAt = "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "acc-1", "2026-06-01T00:00:00Z"
		full.ListID, full.Version, full.Credential, full.GrantHash = "did:medid:abc:l", 2, "tok", strings.Repeat("a", 64)
		full.BatchID, full.Root, full.Count, full.Org, full.Entry, full.Reason = "b", strings.Repeat("0", 64), 3, "did:medid:org", &DirectoryEntry{}, "why"
		full.Filing = json.RawMessage("7")
		full.FilingBlock = json.RawMessage(`"` + strings.Repeat("ab", 32) + `"`)
		out = append(out, full)
		// Each single member alone, and everything but it.
		for i := range payloadFields {
			one, allBut := p, full
			setField(&one, i, &full)
			clearField(&allBut, i)
			out = append(out, one, allBut)
		}
	}
	// Valid ones.
	c := base(DIDCreate)
	c.Document = doc
	u := c
	u.Type, u.PrevVersionID = DIDUpdate, "1"
	d := base(DIDDeactivate)
	d.PrevVersionID = "2"
	cr := base(ConsentRevoke)
	cr.DID, cr.GrantHash = "did:key:z6Mkabc", strings.Repeat("b", 64)
	ir := base(IssuerRevoke)
	ir.Issuer, ir.AccreditationID, ir.RevokedAt = "did:medid:i", "acc-1", "2026-01-01T00:00:00Z"
	out = append(out, c, u, d, cr, ir)
	// Field-level checks.
	bad := base(DIDCreate)
	bad.Document = json.RawMessage(`[1]`)
	out = append(out, bad)
	acc := base(IssuerAccredit)
	acc.Issuer, acc.CredentialTypes, acc.ValidFrom, acc.AccreditationID = "did:key:z", []string{"A", "A"}, "2026-01-01T00:00:00Z", "a"
	out = append(out, acc)
	acc.CredentialTypes, acc.ValidUntil = []string{"A"}, "2025-01-01T00:00:00Z"
	out = append(out, acc)
	acc.ValidUntil, acc.Issuer = "", "nope"
	out = append(out, acc)
	long := base(DIDDeactivate)
	long.PrevVersionID = strings.Repeat("9", MaxIDLen+1)
	out = append(out, long)
	noDID := base(DIDCreate)
	noDID.DID = ""
	out = append(out, noDID)
	return out
}

// setField copies payloadFields[i] from src into p; clearField zeroes it.
func setField(p *Payload, i int, src *Payload) {
	var v Payload
	clearAllBut(&v, src, i)
	b, _ := json.Marshal(v)
	_ = json.Unmarshal(b, p)
}

func clearAllBut(dst, src *Payload, i int) {
	b, _ := json.Marshal(src)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	keep := payloadFields[i].name
	for k := range m {
		if k != keep {
			delete(m, k)
		}
	}
	b, _ = json.Marshal(m)
	_ = json.Unmarshal(b, dst)
}

func clearField(p *Payload, i int) {
	b, _ := json.Marshal(p)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	delete(m, payloadFields[i].name)
	b, _ = json.Marshal(m)
	*p = Payload{}
	_ = json.Unmarshal(b, p)
}

func sameVerdict(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Error() == b.Error()
}

// TestValidateMatchesReference: Validate and the reference give the same
// verdict and message on payloads of every type with every member present
// or missing.
func TestValidateMatchesReference(t *testing.T) {
	ps := validatePayloads()
	accepted := 0
	for i := range ps {
		got, want := ps[i].Validate(), validateReference(&ps[i])
		if !sameVerdict(got, want) {
			t.Errorf("payload %d %+v: Validate %v, the reference %v", i, ps[i], got, want)
		}
		if got == nil {
			accepted++
		}
	}
	if accepted == 0 || accepted == len(ps) {
		t.Errorf("%d of %d payloads accepted: the table does not exercise both verdicts", accepted, len(ps))
	}
}

// FuzzValidateMatchesReference: for any payload JSON, Validate and the
// reference agree to the message.
func FuzzValidateMatchesReference(f *testing.F) {
	for _, p := range validatePayloads() {
		b, _ := json.Marshal(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Payload
		if json.Unmarshal(data, &p) != nil {
			return
		}
		if got, want := p.Validate(), validateReference(&p); !sameVerdict(got, want) {
			t.Fatalf("%s: Validate %v, the reference %v", data, got, want)
		}
	})
}

// BenchmarkValidateDIDCreate is Validate of a did.create payload: once per
// transaction on every node (in tx.Decode).
func BenchmarkValidateDIDCreate(b *testing.B) {
	p := Payload{Type: DIDCreate, DID: "did:medid:abc", Nonce: "n", Document: json.RawMessage(`{"id":"x"}`)}
	for _, c := range []struct {
		name string
		f    func(*Payload) error
	}{{"current", (*Payload).Validate}, {"reference", validateReference}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if err := c.f(&p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
