package wallet

import (
	"errors"

	"github.com/medid/medid/credentials/verify"
	"github.com/medid/medid/registry/directory"
)

// directoryID is the sealed record holding the directory snapshot.
const directoryID = "directory"

// Names returns a directory (registry/directory) that answers who a DID
// is: through src, the registry (nil = offline), checking practitioners'
// licences with licences (nil = practitioners stay unknown), and from the
// snapshot the wallet keeps (see [Wallet.SaveNames]) when the registry
// cannot be reached. The snapshot is stored encrypted like everything
// else: which hospitals and doctors a patient deals with is private.
func (w *Wallet) Names(src directory.Source, licences *verify.Verifier, proven bool) (*directory.Directory, error) {
	d := directory.New(directory.Config{Source: src, Licences: licences, Proven: proven, Now: w.cfg.Now})
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return nil, err
	}
	var snap []byte
	err := getSealed(w.store, w.sealer, settingsBucket, directoryID, &snap)
	switch {
	case errors.Is(err, ErrNotFound):
		return d, nil
	case err != nil:
		return nil, err
	}
	if err := d.LoadSnapshot(snap); err != nil {
		w.cfg.log().Warn("wallet: directory snapshot unreadable; starting without it", "err", err)
	}
	return d, nil
}

// SaveNames keeps what d learned as the wallet's offline snapshot of the
// directory.
func (w *Wallet) SaveNames(d *directory.Directory) error {
	snap, err := d.Snapshot()
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.use(); err != nil {
		return err
	}
	op, err := sealRecord(w.sealer, settingsBucket, directoryID, snap)
	if err != nil {
		return err
	}
	return w.store.Batch([]Op{op})
}
