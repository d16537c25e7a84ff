package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// Directory returns an organisation's directory record with its history
// (GET /1.0/directory/{did}). With proofs on, the record is the proven
// value. An organisation not in the directory is an error wrapping
// ledger.ErrNotFound (proven absent, with proofs on).
func (c *Client) Directory(ctx context.Context, did string) (*ledger.DirectoryRecord, error) {
	rec, err := readRecord[ledger.DirectoryRecord](ctx, c, "/1.0/directory/"+did, ledger.DirectoryKey(did), "directory entry of "+did)
	if err != nil {
		return nil, err
	}
	if rec.DID != did {
		return nil, fmt.Errorf("%w: directory record for %s, asked for %s", ledger.ErrProof, rec.DID, did)
	}
	return rec, nil
}

// DirectoryRole returns which organisation lists did as the DID of one of
// its roles (GET /1.0/directory/{did}/role), or an error wrapping
// ledger.ErrNotFound. The alias holds only while that organisation's entry
// lists the DID: read the organisation with [Client.Directory] and check
// ledger.DirectoryVersion.ListsDID.
func (c *Client) DirectoryRole(ctx context.Context, did string) (*ledger.DirectoryAlias, error) {
	al, err := readRecord[ledger.DirectoryAlias](ctx, c, "/1.0/directory/"+did+"/role", ledger.DirectoryAliasKey(did), "directory role of "+did)
	if err != nil {
		return nil, err
	}
	if al.DID != did {
		return nil, fmt.Errorf("%w: role record for %s, asked for %s", ledger.ErrProof, al.DID, did)
	}
	return al, nil
}

// readRecord GETs path and decodes the record at key: the proven value
// with proofs on, else the body (which for a directory entry is an
// answer wrapping the record).
func readRecord[T any](ctx context.Context, c *Client, path string, key []byte, what string) (*T, error) {
	resp, body, err := c.get(ctx, c.endpoint(path, nil), "application/json")
	if err != nil {
		return nil, err
	}
	if c.verify {
		p, err := c.proven(ctx, resp, key)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, problemFrom(resp, body)
		}
		if p.Value == nil {
			return nil, fmt.Errorf("%w: %s (proven absent at height %d)", ledger.ErrNotFound, what, p.Height)
		}
		out := new(T)
		if err := json.Unmarshal(p.Value, out); err != nil {
			return nil, fmt.Errorf("%w: proven %s: %v", ErrUnexpected, what, err)
		}
		return out, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, problemFrom(resp, body)
	}
	out := new(T)
	if rec, ok := any(out).(*ledger.DirectoryRecord); ok {
		var ans struct {
			DID     string                    `json:"did"`
			History []ledger.DirectoryVersion `json:"history"`
		}
		if err := json.Unmarshal(body, &ans); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnexpected, what, err)
		}
		rec.DID, rec.Versions = ans.DID, ans.History
		return out, nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnexpected, what, err)
	}
	return out, nil
}

// SearchDirectory searches the directory (GET /1.0/directory). Results
// are the registry's index, never proven: read an entry with
// [Client.Directory] to rely on it. A malformed query is a *ProblemError
// wrapping ErrUnexpected with status 400.
func (c *Client) SearchDirectory(ctx context.Context, q ledger.DirectorySearch) (*ledger.DirectoryPage, error) {
	v := url.Values{}
	for k, s := range map[string]string{"q": q.Query, "kind": q.Kind, "status": q.Status, "cursor": q.Cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	u := *c.base
	u.Path = c.base.Path + "/1.0/directory"
	u.RawQuery = v.Encode()
	resp, body, err := c.get(ctx, u.String(), "application/json")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, problemFrom(resp, body)
	}
	var page ledger.DirectoryPage
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("%w: directory search: %v", ErrUnexpected, err)
	}
	return &page, nil
}

// Logo fetches the logo image logo names (from an entry read with
// [Client.Directory]) and checks it ([tx.Logo.Check]: its SHA-256, format
// and size), so the image is the one the ledger names whoever served it.
func (c *Client) Logo(ctx context.Context, did string, logo *tx.Logo) ([]byte, error) {
	u := *c.base
	u.Path = c.base.Path + "/1.0/directory/" + did + "/logo"
	u.RawPath = c.base.EscapedPath() + escapePath("/1.0/directory/"+did+"/logo")
	resp, body, err := c.get(ctx, u.String(), logo.MediaType)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, problemFrom(resp, body)
	}
	if err := logo.Check(body); err != nil {
		return nil, fmt.Errorf("%w: the logo served for %s is not the image the directory names: %v", ledger.ErrProof, did, err)
	}
	return body, nil
}

// UploadLogo gives the registry the logo image of an organisation whose
// entry names its SHA-256 (PUT /1.0/directory/{did}/logo). The registry
// refuses any other image.
func (c *Client) UploadLogo(ctx context.Context, did string, image []byte, mediaType string) error {
	u := *c.base
	u.Path = c.base.Path + "/1.0/directory/" + did + "/logo"
	u.RawPath = c.base.EscapedPath() + escapePath("/1.0/directory/"+did+"/logo")
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(image))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mediaType)
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("registry request: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return problemFrom(resp, body)
	}
	return nil
}
