package tx

import (
	"fmt"
	"strings"
)

// Status list ids live in their owner's namespace: a new list's id is the
// owner's DID, a colon and a name ("did:medid:XW14tZoGjPu9mCtGMranPM:st-mary-1").
// The id is also the last segment of the list's URL, which credentials name
// as statusListCredential, so anyone who could take an id first could make a
// hospital's credentials unverifiable (status_unavailable). Binding the id to
// the DID that signs its first version means an id can only ever be taken by
// its owner. Lists published before this rule keep their ids and owners.

// StatusListID returns the ledger id of owner's status list called name:
// owner + ":" + name. It fails when name is not 1 or more of
// [A-Za-z0-9._-] or the id would be longer than [MaxIDLen] bytes.
func StatusListID(owner, name string) (string, error) {
	id := owner + ":" + name
	if !validListName(name) {
		return "", fmt.Errorf("%w: status list name %.64q: use letters, digits, '.', '_' and '-'", ErrMalformed, name)
	}
	if !strings.HasPrefix(owner, "did:") || !validID(id) {
		return "", fmt.Errorf("%w: status list id %.160q: the owner DID and the name together must fit in %d bytes of [A-Za-z0-9._:-]", ErrMalformed, id, MaxIDLen)
	}
	return id, nil
}

// StatusListOwner returns the owner DID a namespaced status list id names
// (everything before its last ':'), and false when id is not of the form
// "did:<method>:<id>:<name>" (a list made before namespaces, or not a list
// id at all).
func StatusListOwner(id string) (string, bool) {
	i := strings.LastIndexByte(id, ':')
	if i < 0 || !strings.HasPrefix(id, "did:") || strings.Count(id[:i], ":") < 2 || !validListName(id[i+1:]) {
		return "", false
	}
	return id[:i], true
}

// validListName accepts 1 or more of [A-Za-z0-9._-] (no ':', so the owner is
// everything before the last one).
func validListName(s string) bool {
	if s == "" || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
