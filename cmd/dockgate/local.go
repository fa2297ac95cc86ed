package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"

	"github.com/dockgate/dockgate/edge/gateway"
	"github.com/dockgate/dockgate/edge/store"
)

// storeFlags are the flags of commands that work on a gateway's data: a
// configuration file and/or a data directory.
type storeFlags struct {
	file    string
	dataDir string
}

// onGateway runs local on the data directory when no gateway holds it, or
// remote through the running gateway's HTTP API when one does.
func onGateway(ctx context.Context, env *cliEnv, f storeFlags, local func(*gateway.Gateway) (any, error), remote func(*apiClient) (any, error)) (any, error) {
	cfg, err := loadConfig(f.file, env.getenv)
	if err != nil {
		return nil, err
	}
	if f.dataDir != "" {
		cfg.DataDir = f.dataDir
	}
	g, err := gateway.Open(cfg, gateway.Info{}, slog.New(slog.NewTextHandler(io.Discard, nil)), gateway.Options{Offline: true, NoRecover: true})
	var locked *store.LockedError
	switch {
	case errors.As(err, &locked):
		if cfg.HTTP.Listen == "" {
			return nil, fmt.Errorf("%v and its HTTP API is disabled (http.listen): stop the gateway or enable the API", err)
		}
		v, err := remote(&apiClient{base: "http://" + cfg.HTTP.Listen, token: cfg.HTTP.Token, ctx: ctx})
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
