package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/ledger/light"
)

// LightBlock fetches the signed header and validator set of a height (0:
// the latest) from GET /1.0/light/{height} and checks their structure for
// the client's chain. It implements light.Source: what it returns is
// verified by the light client, not trusted. Errors wrap light.ErrInvalid
// for a malformed answer, or are a *ProblemError (ledger.ErrNotFound for a
// height the node does not have, e.g. pruned or not yet made).
func (c *Client) LightBlock(ctx context.Context, height int64) (*light.LightBlock, error) {
	if height < 0 {
		return nil, fmt.Errorf("light block height %d is negative", height)
	}
	h := "latest"
	if height > 0 {
		h = strconv.FormatInt(height, 10)
	}
	u := *c.base
	u.Path = c.base.Path + "/1.0/light/" + h
	resp, body, err := c.get(ctx, u.String(), "application/json")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, problemFrom(resp, body)
	}
	var w ledger.LightBlock
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: light block: %v", ErrUnexpected, err)
	}
	chainID := w.ChainID
	if c.light != nil {
		chainID = c.light.ChainID()
	}
	lb, err := light.DecodeLightBlock(w.SignedHeader, w.ValidatorSet, chainID)
	if err != nil {
		return nil, err
	}
	if height > 0 && lb.Height() != height {
		return nil, fmt.Errorf("%w: asked for light block %d, got %d", light.ErrInvalid, height, lb.Height())
	}
	return lb, nil
}
