package proctest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/medid/medid/registry/node"
)

// seedFile marks a folder written completely by [Network.SaveTo].
const seedFile = "seed.json"

// seedInfo is what SaveTo records beside the homes.
type seedInfo struct {
	Validators int       `json:"validators"`
	ChainID    string    `json:"chainId"`
	Height     int64     `json:"height"`
	Saved      time.Time `json:"saved"`
}

// SaveTo stops every genesis node cleanly and copies their homes (keys,
// chain, state, settings) to dir, which must not exist yet; the nodes stay
// stopped ([Node.Start] starts one again). A later [Start] with
// Config.Seed = dir carries on from there. files are written beside the homes (e.g. the DIDs a test
// registered; read them back with [SeedFile]). Joined nodes are not saved.
// The copy is complete only once dir/seed.json exists, so a run stopped
// midway leaves no usable seed.
func (nw *Network) SaveTo(ctx context.Context, dir string, files map[string][]byte) error {
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("save the network: %s exists", dir)
	}
	genesis := nw.Nodes[:nw.cfg.Validators]
	var height int64
	for _, nd := range genesis {
		if h, err := nd.Height(ctx); err == nil && h > height {
			height = h
		}
	}
	for _, nd := range genesis {
		if err := nd.Stop(); err != nil {
			return err
		}
	}
	tmp := dir + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	for _, nd := range genesis {
		if err := copyTree(filepath.Join(tmp, nd.Name), nd.Home); err != nil {
			return fmt.Errorf("save %s: %w", nd.Name, err)
		}
	}
	for name, b := range files {
		if !filepath.IsLocal(name) || filepath.Dir(name) != "." || name == seedFile {
			return fmt.Errorf("save the network: file name %q", name)
		}
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o600); err != nil {
			return err
		}
	}
	info, err := json.Marshal(seedInfo{Validators: len(genesis), ChainID: nw.ChainID, Height: height, Saved: time.Now().UTC()})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, seedFile), info, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// Seeded reports whether dir holds a network SaveTo wrote completely.
func Seeded(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, seedFile))
	return err == nil
}

// SeedFile reads a file SaveTo wrote beside the homes in dir.
func SeedFile(dir, name string) ([]byte, error) {
	if !filepath.IsLocal(name) || filepath.Dir(name) != "." {
		return nil, fmt.Errorf("seed file name %q", name)
	}
	return os.ReadFile(filepath.Join(dir, name))
}

// fromSeed copies the saved homes into the network's folder and gives
// every node fresh loopback ports (peer BasePort+10i, HTTP +1, RPC +2, as
// node.Testnet lays them out) and the network's block time.
func (nw *Network) fromSeed(base int) error {
	var info seedInfo
	b, err := os.ReadFile(filepath.Join(nw.cfg.Seed, seedFile))
	if err != nil {
		return fmt.Errorf("seed %s: %w (not written completely by Network.SaveTo)", nw.cfg.Seed, err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return fmt.Errorf("seed %s: %w", nw.cfg.Seed, err)
	}
	if info.Validators != nw.cfg.Validators {
		return fmt.Errorf("seed %s holds %d validators, the network wants %d", nw.cfg.Seed, info.Validators, nw.cfg.Validators)
	}
	nw.ChainID = info.ChainID
	port := func(i, off int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(base+10*i+off)) }
	for i, nd := range nw.Nodes {
		if err := copyTree(nd.Home, filepath.Join(nw.cfg.Seed, nd.Name)); err != nil {
			return fmt.Errorf("copy %s from the seed: %w", nd.Name, err)
		}
		s, err := node.LoadSettings(nd.Home)
		if err != nil {
			return err
		}
		s.P2PAddr, s.HTTPAddr, s.RPCAddr = port(i, 0), port(i, 1), port(i, 2)
		s.BlockTime = nw.cfg.BlockTime.String()
		if err := node.WriteSettings(nd.Home, s); err != nil {
			return err
		}
		if nd.ID, err = node.NodeID(nd.Home); err != nil {
			return err
		}
		nd.P2P, nd.RPC, nd.URL = s.P2PAddr, s.RPCAddr, "http://"+s.HTTPAddr
	}
	nw.Genesis, err = os.ReadFile(filepath.Join(nw.Nodes[0].Home, "config", "genesis.json"))
	return err
}

// copyTree copies the regular files and folders of src into dst (created
// as needed), leaving out node logs and disk ballast. Modes are kept.
func copyTree(dst, src string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		case !info.Mode().IsRegular():
			return nil // sockets, LevelDB's LOCK is a regular file
		case rel == "registryd.log" || rel == "ballast":
			return nil
		}
		return copyFile(to, p, info.Mode().Perm())
	})
}

func copyFile(dst, src string, mode fs.FileMode) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return errors.Join(err, os.Remove(dst))
	}
	return nil
}
