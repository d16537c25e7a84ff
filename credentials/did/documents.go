package did

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Documents is a [Resolver] over DID resolutions held in memory, keyed by
// DID: cached copies of issuers' DID documents for a verifier without a
// network (an emergency department offline, say). A DID not in the map is
// [ErrNotFound]; a cached resolution whose metadata says the DID was
// deactivated resolves with [ErrDeactivated], as a registry would answer.
// Safe for concurrent use once filled.
type Documents map[string]*Resolution

// Resolve returns the cached resolution of id.
func (d Documents) Resolve(_ context.Context, id string) (*Resolution, error) {
	res, ok := d[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s is not among the cached DID documents", ErrNotFound, clip(id))
	}
	if res.Metadata.Deactivated {
		return res, fmt.Errorf("%w: %s (cached)", ErrDeactivated, clip(id))
	}
	return res, nil
}

// ParseCached parses one cached DID document: a DID resolution result
// ({"didDocument": …, "didDocumentMetadata": …}, as a resolver or
// 'medid did resolve' writes it) or a bare DID document. The document is
// read with [ParseDocument]; errors wrap [ErrInvalidDocument].
func ParseCached(data []byte) (*Resolution, error) {
	var wrapped struct {
		Doc  json.RawMessage  `json:"didDocument"`
		Meta DocumentMetadata `json:"didDocumentMetadata"`
	}
	res := &Resolution{}
	if json.Unmarshal(data, &wrapped) == nil && len(bytes.TrimSpace(wrapped.Doc)) > 0 && !bytes.Equal(bytes.TrimSpace(wrapped.Doc), []byte("null")) {
		data, res.Metadata = wrapped.Doc, wrapped.Meta
	}
	doc, err := ParseDocument(data)
	if err != nil {
		return nil, err
	}
	res.Document = doc
	return res, nil
}

// ReadDocuments reads every *.json file of dir with [ParseCached] and
// returns them keyed by each document's id (of two files with one id, the
// last in name order wins). A file that is not a DID document is an error
// naming it and wrapping [ErrInvalidDocument]; nothing is returned then.
func ReadDocuments(dir string) (Documents, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	docs := Documents{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		res, err := ParseCached(b)
		if err != nil {
			return nil, fmt.Errorf("%s is not a DID document: %w", f, err)
		}
		docs[res.Document.ID] = res
	}
	return docs, nil
}
