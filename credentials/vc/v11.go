package vc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hyperledger/aries-framework-go/component/kmscrypto/doc/jose/jwk/jwksupport"
	"github.com/hyperledger/aries-framework-go/component/models/ld/context/embed"
	"github.com/hyperledger/aries-framework-go/component/models/signature/suite"
	"github.com/hyperledger/aries-framework-go/component/models/signature/suite/ed25519signature2018"
	"github.com/hyperledger/aries-framework-go/component/models/signature/suite/ed25519signature2020"
	"github.com/hyperledger/aries-framework-go/component/models/signature/suite/jsonwebsignature2020"
	"github.com/hyperledger/aries-framework-go/component/models/signature/verifier"
	"github.com/hyperledger/aries-framework-go/component/models/verifiable"
	jsonld "github.com/piprate/json-gold/ld"

	"github.com/medid/medid/credentials/key"
)

// ContextV1 is the base context of VC Data Model 1.1.
const ContextV1 = "https://www.w3.org/2018/credentials/v1"

// v11ProofTypes are the embedded proof types VerifyV11 accepts. Anything else
// (BBS+, secp256k1, DataIntegrityProof, which aries would route elsewhere) is refused.
var v11ProofTypes = map[string]bool{
	"Ed25519Signature2018": true,
	"Ed25519Signature2020": true,
	"JsonWebSignature2020": true,
}

// offlineLoader is a JSON-LD document loader over aries' embedded contexts
// only. It never touches the network: an unknown context is an error, so a
// credential cannot make the verifier fetch a URL of its choosing, and
// verification gives the same answer offline as online.
type offlineLoader struct {
	docs map[string][]byte // context URL -> JSON
	urls map[string]string // context URL -> final document URL
}

const errNotEmbedded = "is not one of the embedded contexts"

var loadOffline = sync.OnceValue(func() *offlineLoader {
	l := &offlineLoader{docs: map[string][]byte{}, urls: map[string]string{}}
	for _, c := range embed.Contexts {
		l.docs[c.URL] = c.Content
		l.urls[c.URL] = c.DocumentURL
	}
	return l
})

// LoadDocument implements jsonld.DocumentLoader. Each call parses a fresh
// copy, so the JSON-LD processor can never mutate a shared document.
func (l *offlineLoader) LoadDocument(u string) (*jsonld.RemoteDocument, error) {
	b, ok := l.docs[u]
	if !ok {
		return nil, fmt.Errorf("JSON-LD context %s %s (no context is fetched from the network)", u, errNotEmbedded)
	}
	doc, err := jsonld.DocumentFromReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("embedded JSON-LD context %s: %w", u, err)
	}
	final := l.urls[u]
	if final == "" {
		final = u
	}
	return &jsonld.RemoteDocument{DocumentURL: final, Document: doc}, nil
}

// VerifyV11 verifies a VC Data Model 1.1 credential from another ecosystem at
// time.Now(); see [VerifyV11WithOptions].
func VerifyV11(ctx context.Context, data []byte, keys KeyFunc) (*Credential, error) {
	return VerifyV11WithOptions(ctx, data, keys, VerifyOptions{})
}

// VerifyV11WithOptions verifies a VC Data Model 1.1 credential: JSON-LD with
// an Ed25519Signature2020, Ed25519Signature2018 or JsonWebSignature2020
// proof, or a VC 1.1 JWT (the "vc" claim form, alg EdDSA or ES256). The
// checks are done by hyperledger aries' verifiable package with the JSON-LD
// contexts embedded in aries only (nothing is ever fetched) and no custom
// schema check. On top of aries, VerifyV11WithOptions requires a proof (aries
// accepts an unsigned credential), requires every proof or JWT kid to belong
// to the issuer's DID ([ErrIssuerMismatch]), and checks issuanceDate and
// expirationDate against opts ([ErrNotYetValid], [ErrExpired]).
//
// The result is mapped to [Credential]: Context (1.1 contexts, so it does not
// pass [Credential.Validate]; inline context objects are dropped), Type, Issuer, Subject (one subject only),
// ValidFrom = issuanceDate, ValidUntil = expirationDate, other properties
// except the proof in Extra. A signature failure wraps [ErrBadSignature];
// input aries cannot parse wraps [ErrMalformed].
func VerifyV11WithOptions(ctx context.Context, data []byte, keys KeyFunc, opts VerifyOptions) (*Credential, error) {
	if keys == nil {
		return nil, fmt.Errorf("vc: no KeyFunc given")
	}
	data = bytes.TrimSpace(data)
	isJWT := len(data) > 0 && data[0] != '{'
	var jwtHdr Header
	if isJWT {
		tok := strings.Trim(string(data), `"`)
		// Refuse what aries would otherwise accept: unsecured (alg none) JWTs,
		// SD-JWT forms, and algorithms outside EdDSA/ES256.
		p, err := splitJWS(tok, "", "")
		if err != nil {
			return nil, fmt.Errorf("VC 1.1 JWT: %w", err)
		}
		jwtHdr = p.header
		// Check the signature ourselves too: our parser fixes the algorithm by
		// the key type, aries' picks it from the header.
		if err := checkSignature(ctx, &p, keys); err != nil {
			return nil, err
		}
		data = []byte(tok)
	} else if err := checkV11Proofs(data); err != nil {
		return nil, err
	}

	var (
		mu      sync.Mutex
		keyDIDs []string
		keyErr  error
	)
	fetch := func(issuerID, keyID string) (*verifier.PublicKey, error) {
		kid := keyID
		if !strings.HasPrefix(kid, "did:") {
			kid = issuerID + "#" + strings.TrimPrefix(keyID, "#")
		}
		pub, err := keys(ctx, kid)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			keyErr = fmt.Errorf("key %s: %w", kid, err)
			return nil, keyErr
		}
		did, err := kidDID(kid)
		if err != nil {
			keyErr = err
			return nil, err
		}
		keyDIDs = append(keyDIDs, did)
		return ariesKey(pub)
	}
	loader := loadOffline()
	ac, err := verifiable.ParseCredential(data,
		verifiable.WithPublicKeyFetcher(fetch),
		verifiable.WithJSONLDDocumentLoader(loader),
		verifiable.WithNoCustomSchemaCheck(),
		// JSON-LD canonicalisation silently drops terms the contexts do not
		// define, so a signature would not cover them: an attacker could
		// change such a property and the proof would still verify. Strict
		// validation refuses a credential with any undefined term.
		verifiable.WithStrictValidation(),
		verifiable.WithEmbeddedSignatureSuites(
			ed25519signature2018.New(suite.WithVerifier(ed25519signature2018.NewPublicKeyVerifier())),
			ed25519signature2020.New(suite.WithVerifier(ed25519signature2020.NewPublicKeyVerifier())),
			jsonwebsignature2020.New(suite.WithVerifier(jsonwebsignature2020.NewPublicKeyVerifier())),
		),
	)
	if err != nil {
		if keyErr != nil {
			return nil, keyErr
		}
		if isSignatureError(err) {
			return nil, fmt.Errorf("%w: VC 1.1 credential: %v", ErrBadSignature, err)
		}
		return nil, fmt.Errorf("%w: VC 1.1 credential: %v", ErrMalformed, err)
	}
	if !isJWT && len(ac.Proofs) == 0 {
		return nil, fmt.Errorf("%w: VC 1.1 credential has no proof", ErrBadSignature)
	}
	if isJWT && len(keyDIDs) == 0 {
		// aries did not consult the KeyFunc; only our own check covers it.
		d, err := kidDID(jwtHdr.Kid)
		if err != nil {
			return nil, err
		}
		keyDIDs = append(keyDIDs, d)
	}
	for _, d := range keyDIDs {
		if d != ac.Issuer.ID {
			return nil, fmt.Errorf("%w: proof by a key of %s, but the issuer is %s", ErrIssuerMismatch, d, ac.Issuer.ID)
		}
	}
	c, err := fromAries(ac)
	if err != nil {
		return nil, err
	}
	if err := checkWindow("credential", c.ValidFrom, c.ValidUntil, opts.now(), opts.ClockSkew); err != nil {
		return nil, err
	}
	return c, nil
}

// checkV11Proofs refuses proof types outside v11ProofTypes before aries sees them.
func checkV11Proofs(data []byte) error {
	var doc struct {
		Proof json.RawMessage `json:"proof"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%w: VC 1.1 credential is not JSON: %v", ErrMalformed, err)
	}
	if len(doc.Proof) == 0 || string(doc.Proof) == "null" {
		return fmt.Errorf("%w: VC 1.1 credential has no proof", ErrBadSignature)
	}
	var proofs []struct {
		Type string `json:"type"`
	}
	if doc.Proof[0] == '{' {
		doc.Proof = append(append([]byte{'['}, doc.Proof...), ']')
	}
	if err := json.Unmarshal(doc.Proof, &proofs); err != nil || len(proofs) == 0 {
		return fmt.Errorf("%w: VC 1.1 proof must be an object or an array of objects", ErrMalformed)
	}
	for _, p := range proofs {
		if !v11ProofTypes[p.Type] {
			return fmt.Errorf("%w: proof type %q (accepted: Ed25519Signature2020, Ed25519Signature2018, JsonWebSignature2020)", ErrUnsupportedAlg, p.Type)
		}
	}
	return nil
}

// ariesKey converts our key to aries' verifier form: the raw bytes for the
// Ed25519 suites and a JWK for the JWT and JsonWebSignature2020 verifiers.
func ariesKey(pub key.PublicKey) (*verifier.PublicKey, error) {
	j, err := jwksupport.JWKFromKey(pub.Crypto())
	if err != nil {
		return nil, fmt.Errorf("convert %s key for aries: %w", pub.Alg(), err)
	}
	pk := &verifier.PublicKey{Type: "JsonWebKey2020", JWK: j}
	if pub.Alg() == key.Ed25519 {
		pk.Type = "Ed25519VerificationKey2020"
		pk.Value = pub.Bytes()
	}
	return pk, nil
}

func isSignatureError(err error) bool {
	s := err.Error()
	if strings.Contains(s, errNotEmbedded) {
		return false // an unknown context is a property of the input, not of its signature
	}
	for _, m := range []string{"check embedded proof", "linked data proof", "invalid signature", "JWS decoding", "verify"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// fromAries maps an aries VC 1.1 credential to our Credential through its
// JSON form, so every property lands somewhere.
func fromAries(ac *verifiable.Credential) (*Credential, error) {
	cp := *ac
	cp.JWT = "" // else MarshalJSON returns the JWT string
	cp.Proofs = nil
	cp.SDJWTHashAlg = ""
	raw, err := cp.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%w: VC 1.1 credential: %v", ErrMalformed, err)
	}
	fields, err := parseObject(string(raw), "VC 1.1 credential")
	if err != nil {
		return nil, err
	}
	c := &Credential{}
	for k, v := range fields {
		switch k {
		case "@context":
			// 1.1 contexts may hold objects (inline term definitions); the
			// mapped credential keeps the context URLs only.
			list, ok := v.([]any)
			if !ok {
				list = []any{v}
			}
			for _, e := range list {
				if s, ok := e.(string); ok {
					c.Context = append(c.Context, s)
				}
			}
		case "issuanceDate":
			if c.ValidFrom, err = parseV11Time(k, v); err != nil {
				return nil, err
			}
		case "expirationDate":
			if c.ValidUntil, err = parseV11Time(k, v); err != nil {
				return nil, err
			}
		case "credentialSubject":
			if list, ok := v.([]any); ok && len(list) == 1 {
				v = list[0]
			}
			switch s := v.(type) {
			case map[string]any:
				c.Subject = s
			case string:
				c.Subject = map[string]any{"id": s}
			default:
				return nil, fmt.Errorf("%w: VC 1.1 credentialSubject must be one subject", ErrMalformed)
			}
		case "proof":
		default:
			if err := c.setField(k, v); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// parseV11Time reads an xsd:dateTime; VC 1.1 allows one without a time zone,
// which is taken as UTC.
func parseV11Time(name string, v any) (*time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%w: %s must be a date-time string", ErrMalformed, name)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return &t, nil
		}
	}
	return nil, fmt.Errorf("%w: %s %q is not an xsd:dateTime", ErrMalformed, name, s)
}
