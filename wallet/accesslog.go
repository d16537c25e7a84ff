package wallet

import (
	"github.com/medid/medid/registry/hospital/vaultclient"
)

// AccessEvent is one access (or attempt) to the patient's records in a
// vault's trail, proven included in a batch anchored on the ledger and
// decrypted with the patient's key: the vault's own entry (trail.Entry:
// Time, Provider, Record, Class, Action, Purpose, Outcome, BreakGlass,
// Consent, Licence, Authority, Grant and AnchorSeal, …) with the vault and
// batch it was proven in. The wallet adds only its words for it
// ([AccessEvent.Sentence]). Licence is the provider's practitioner licence
// as presented to the vault: check it with directory.Directory.AddLicence
// before naming them; Authority is set when someone acted in the patient's
// name (see Describe).
type AccessEvent struct {
	vaultclient.VerifiedEntry
}
