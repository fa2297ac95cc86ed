package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/gateway"
	"github.com/dockgate/dockgate/edge/store"
)

// defaultConfig is the configuration "dockgate run" uses without -c, and
// where the other commands look for the gateway without -c (tests put it
// on free ports).
var defaultConfig = config.Default

// storeFlags are the flags of commands that work on a gateway's data: a
// configuration file and/or a data directory.
type storeFlags struct {
	file    string
	dataDir string
}

// onDefaults reports whether neither -c nor --data-dir was given: the
// command then looks for the gateway "dockgate run" starts without -c.
func (f storeFlags) onDefaults() bool { return f.file == "" && f.dataDir == "" }

// onGateway runs local on the data directory when no gateway holds it, or
// remote through the running gateway's HTTP API when one does.
//
// Without -c and --data-dir it works on the defaults of "dockgate run"
// without -c: ./dockgate-data when it is here, else the gateway whose API
// answers on the default address; neither is an error naming both.
func onGateway(ctx context.Context, env *cliEnv, f storeFlags, local func(*gateway.Gateway) (any, error), remote func(*apiClient) (any, error)) (any, error) {
	cfg, err := loadConfig(f.file, env.getenv)
	if err != nil {
		return nil, err
	}
	if f.dataDir != "" {
		cfg.DataDir = f.dataDir
	}
	if f.onDefaults() && !dirExists(cfg.DataDir) {
		c, err := findDefaultGateway(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return remote(c)
	}
	g, err := gateway.Open(cfg, gateway.Info{}, slog.New(slog.NewTextHandler(io.Discard, nil)), gateway.Options{Offline: true, NoRecover: true})
	var locked *store.LockedError
	switch {
	case errors.As(err, &locked):
		if cfg.HTTP.Listen == "" {
			return nil, fmt.Errorf("%v and its HTTP API is disabled (http.listen): stop the gateway or enable the API", err)
		}
		v, err := remote(&apiClient{base: "http://" + apiDialAddr(cfg.HTTP.Listen), token: cfg.HTTP.Token, ctx: ctx})
		var ne *net.OpError
		if errors.As(err, &ne) {
			return nil, fmt.Errorf("%v, and its HTTP API at %s did not answer (%v): pass the gateway's configuration with -c", locked, cfg.HTTP.Listen, ne.Err)
		}
		return v, err
	case err != nil:
		return nil, err
	}
	defer g.Close()
	return local(g)
}

// dirExists reports whether dir is there (anything but "does not exist"
// counts, so that the store's open reports any other problem).
func dirExists(dir string) bool {
	_, err := os.Stat(dir)
	return !errors.Is(err, fs.ErrNotExist)
}

// findDefaultGateway is the gateway "dockgate run" started without -c in
// another directory: the one whose HTTP API answers on the default
// address. When none answers, the error names what was tried.
func findDefaultGateway(ctx context.Context, cfg *config.Config) (*apiClient, error) {
	var c *apiClient
	err := errors.New("the HTTP API is disabled (http.listen)")
	if cfg.HTTP.Listen != "" {
		c, err = probeAPI(ctx, cfg.HTTP.Listen, cfg.HTTP.Token)
	}
	if err != nil {
		return nil, fmt.Errorf("no gateway found on the defaults of \"dockgate run\" without -c: no data dir %s here, and %v; give -c FILE or --data-dir DIR, or run this in the gateway's directory", cfg.DataDir, err)
	}
	return c, nil
}

// probeTimeout bounds the look for a running gateway's API.
const probeTimeout = 3 * time.Second

// probeAPI asks GET /healthz of the API at listen: a gateway answers with
// a JSON object (200 healthy, 503 not), whoever else answers is not one.
func probeAPI(ctx context.Context, listen, token string) (*apiClient, error) {
	base := "http://" + apiDialAddr(listen)
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ne *net.OpError
		if errors.As(err, &ne) {
			err = ne.Err
		}
		return nil, fmt.Errorf("no gateway answered at %s (%v)", base, err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if (resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable) ||
		json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&v) != nil {
		return nil, fmt.Errorf("what answers at %s is not a dockgate gateway (GET /healthz: %s)", base, resp.Status)
	}
	return &apiClient{base: base, token: token, ctx: ctx}, nil
}

// apiClient calls a running gateway's HTTP API.
type apiClient struct {
	base  string
	token string
	ctx   context.Context
}

func (c *apiClient) do(method, path string, in, out any) error {
	req, err := http.NewRequestWithContext(c.ctx, method, c.base+path, nil)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return httpJSONReq(req, in, out)
}

// escape is a path segment for the API.
func escape(s string) string { return url.PathEscape(s) }
