package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/medid/medid/credentials/licence"
	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/registry/hospital/vaultapi"
)

// A practitioner proves who they are to the vault with OpenID for
// Verifiable Presentations: the vault is an OpenID4VP verifier
// (response mode direct_post) asking for a PractitionerLicenceCredential.
// POST /1.0/vault/licence/requests starts a request (no authentication:
// anyone may ask to be asked; the pending requests are bounded and expire
// after LicenceRequestTTL) and answers its openid4vp:// URI; the request
// object is signed by the vault's DID, so the wallet names the vault from
// the directory. The wallet posts a presentation of the licence, signed by
// the licence's subject for this request (audience and nonce), to
// /1.0/vault/openid4vp/response. The vault verifies it (signature, holder
// binding, validity, revocation, the body's accreditation for licences:
// Config.Presentations), then checks the licence against the directory
// (Config.Licences: an active licensing body), and from then on attaches
// it to the practitioner's trail entries. A refusal goes back to the
// wallet with its reason (revoked, expired, not a licensing body, …).

// LicenceRequestTTL is how long a licence request can be answered.
const LicenceRequestTTL = 5 * time.Minute

// maxLicenceRequests bounds the licence requests pending at once.
const maxLicenceRequests = 10_000

// licenceStatusMaxAge is how old a cached status list may be when a
// licence is presented: a revocation is seen at once (at most one fetch
// a second per list).
const licenceStatusMaxAge = time.Second

// openid4vpPath is where the vault's OpenID4VP verifier is served.
const openid4vpPath = "/1.0/vault/openid4vp"

// newLicenceVerifier makes the vault's OpenID4VP verifier when the vault
// has a public URL and a presentation verifier; nil otherwise.
func (v *Vault) newLicenceVerifier() (*openid4vp.Verifier, error) {
	if v.cfg.PublicURL == "" {
		return nil, nil
	}
	if v.cfg.Presentations == nil || v.cfg.Licences == nil {
		return nil, errors.New("vault: Config.PublicURL needs Config.Presentations and Config.Licences to take licences over OpenID4VP")
	}
	u := strings.TrimRight(v.cfg.PublicURL, "/")
	return openid4vp.New(openid4vp.Config{URL: u + openid4vpPath, Name: "record vault", DID: v.cfg.DID, Key: v.cfg.Key, KeyID: v.cfg.KeyID,
		Verify: v.cfg.Presentations, StatusMaxAge: licenceStatusMaxAge, RequestTTL: LicenceRequestTTL, MaxPending: maxLicenceRequests,
		Accept: v.acceptLicence, Now: v.cfg.Now, Logger: v.cfg.Logger})
}

// StartLicenceRequest starts an OpenID4VP request for a practitioner's
// licence. It fails with vaultapi.ErrBadRequest when the vault takes no
// licences over OpenID4VP (no Config.PublicURL).
func (v *Vault) StartLicenceRequest() (*vaultapi.LicenceRequest, error) {
	if v.vp == nil {
		return nil, fmt.Errorf("%w: this vault does not take licences over OpenID4VP (registryd --vault-url)", vaultapi.ErrBadRequest)
	}
	st, err := v.vp.CreateRequest(openid4vp.DCQLQuery{Credentials: []openid4vp.CredentialQuery{openid4vp.NewQuery(vaultapi.LicenceQueryID, licence.Type)}})
	if err != nil {
		var pe *openid4vp.ProtocolError
		if errors.As(err, &pe) && pe.Status == http.StatusServiceUnavailable {
			return nil, fmt.Errorf("%w: too many licence requests are pending; try again in a few minutes", vaultapi.ErrBusy)
		}
		return nil, err
	}
	return &vaultapi.LicenceRequest{URI: st.URI, RequestURI: st.RequestURI, State: st.State, ClientID: st.ClientID, ExpiresAt: st.ExpiresAt}, nil
}

// acceptLicence is the OpenID4VP verifier's last word on a verified
// presentation: it must hold one credential, the licence, whose subject
// is the presentation's holder (checked again by Config.Licences, which
// also checks the body against the directory).
func (v *Vault) acceptLicence(ctx context.Context, res *openid4vp.Result) error {
	pr := res.Presentations[vaultapi.LicenceQueryID]
	if pr == nil || pr.Presentation == nil || len(pr.Presentation.Credentials) != 1 {
		return errors.New("present your licence and nothing else")
	}
	return v.rememberLicence(ctx, res.Holder, pr.Presentation.Credentials[0])
}

// rememberLicence checks token with Config.Licences as the licence of
// holder and keeps it for holder's trail entries. Errors wrap vaultapi
// sentinels and say why a licence is refused.
func (v *Vault) rememberLicence(ctx context.Context, holder, token string) error {
	if v.cfg.Licences == nil {
		return fmt.Errorf("%w: this vault does not take practitioner licences", vaultapi.ErrBadRequest)
	}
	if len(token) > vaultapi.MaxLicence {
		return fmt.Errorf("%w: the licence is %d bytes, at most %d are accepted", vaultapi.ErrBadRequest, len(token), vaultapi.MaxLicence)
	}
	who, err := v.cfg.Licences(ctx, token)
	if err != nil {
		return fmt.Errorf("%w: licence: %v", vaultapi.ErrDenied, err)
	}
	if who != holder {
		return fmt.Errorf("%w: the licence is %s's, and %s presented it", vaultapi.ErrDenied, who, holder)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.licences[who]; !ok && len(v.licences) >= maxLicences {
		return fmt.Errorf("%w: the vault holds %d licences", vaultapi.ErrBadRequest, maxLicences)
	}
	v.licences[who] = token
	b, err := json.Marshal(v.licences)
	if err != nil {
		return err
	}
	return writeFileSync(v.licencesPath(), b)
}
