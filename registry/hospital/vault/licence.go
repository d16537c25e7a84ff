package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/medid/medid/registry/hospital/vaultapi"
)

// A practitioner presents their licence to the vault once, over OpenID4VP
// (licence_vp.go), or with PUT /1.0/vault/licence: a request signed by
// their DID key, for this vault, fresh and single use, carrying the
// licence credential. The vault checks
// it with Config.Licences (registryd checks it against the registry: the
// credential verifies, is not revoked or expired, and its issuer is an
// active licensing body of the directory accredited for licences) and then
// attaches it to every trail entry of that practitioner, so the patient's
// wallet can show "Dr. Jane Doe (St Mary's Hospital) read your allergies"
// after checking the licence itself.

// maxLicences bounds the practitioners a vault remembers.
const maxLicences = 100_000

func (v *Vault) licencesPath() string { return filepath.Join(v.cfg.Dir, "licences.json") }

func (v *Vault) loadLicences() error {
	b, err := os.ReadFile(v.licencesPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = json.Unmarshal(b, &v.licences)
	}
	if err != nil {
		return fmt.Errorf("vault: %s: %w", v.licencesPath(), err)
	}
	return nil
}

// PresentLicence takes a practitioner's licence: the signed request's
// issuer must be the licence's subject, and Config.Licences must accept
// the licence. From then on the vault's trail entries about that
// practitioner carry the licence. Errors wrap vaultapi sentinels.
func (v *Vault) PresentLicence(ctx context.Context, token string) error {
	r, err := v.auth.authenticate(ctx, token, v.cfg.Now())
	if err != nil {
		return err
	}
	if r.Op != vaultapi.OpLicence || r.Licence == "" {
		return fmt.Errorf("%w: op %q with a licence, want %q", vaultapi.ErrBadRequest, r.Op, vaultapi.OpLicence)
	}
	return v.rememberLicence(ctx, r.Issuer, r.Licence)
}

// licenceOf returns the licence a provider presented ("" if none).
func (v *Vault) licenceOf(provider string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.licences[provider]
}
