package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/dockgate/dockgate/edge/config"
)

const readerRFUsage = `dockgate reader rf ID [--antenna N] [--tx-power-dbm DBM] [--rx-sensitivity-dbm DBM] [--session 0-3] [--target A|B|AB]
    [--rf-mode auto|ID] [--tag-population N] [--hop-table-id N] [--channel-index N] [--impinj-search-mode MODE] [-c FILE | --url URL]
(retunes reader ID of a running gateway through its HTTP API, POST /readers/ID/rf: the settings add to those in force and
 apply with one ROSpec restart; they are not written to the configuration: copy the printed "applied" into readers[] to keep them)`

// rfFlags are the RF keys of "reader rf", by flag name.
var rfFlags = []struct {
	flag, key, usage string
	number           bool
}{
	{"tx-power-dbm", "tx_power_dbm", "transmit power `DBM` (the nearest lower entry of the reader's table)", true},
	{"rx-sensitivity-dbm", "rx_sensitivity_dbm", "receive sensitivity `DBM`", true},
	{"session", "session", "Gen2 session `0-3`", true},
	{"target", "target", "inventory target: A, B or AB", false},
	{"rf-mode", "rf_mode", "RF mode: auto or a ModeIdentifier of the reader's table", false},
	{"tag-population", "tag_population", "tags expected in the field at once", true},
	{"hop-table-id", "hop_table_id", "hop table `ID` of the reader's", true},
	{"channel-index", "channel_index", "channel `N`, numbered from 1", true},
	{"impinj-search-mode", "vendor.impinj.search_mode", "Impinj search `MODE` (e.g. dual_target)", false},
}

// readerRF asks a running gateway to apply RF settings to one of its
// readers and prints the settings in force.
func readerRF(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "reader rf", readerRFUsage)
	cfgPath := fs.String("c", "", "gateway config `FILE`: its http.listen and token (default: the embedded defaults \"dockgate run\" uses without -c)")
	apiURL := fs.String("url", "", "the gateway's HTTP API `URL`, e.g. http://10.0.0.5:8080 (token from "+config.EnvHTTPToken+" or -c FILE)")
	antenna := fs.Uint("antenna", 0, "apply to this antenna `N` only (default all)")
	vals := map[string]*string{}
	for _, f := range rfFlags {
		vals[f.flag] = fs.String(f.flag, "", f.usage)
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fs.usageError("give one reader ID (GET /readers lists them)")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *antenna > 0xFFFF {
		return fmt.Errorf("--antenna %d: give an antenna port, numbered from 1", *antenna)
	}
	body := map[string]any{}
	for _, f := range rfFlags {
		if !set[f.flag] {
			continue
		}
		v := any(*vals[f.flag])
		if f.number {
			n, err := strconv.ParseFloat(*vals[f.flag], 64)
			if err != nil {
				return fmt.Errorf("--%s %q: give a number", f.flag, *vals[f.flag])
			}
			v = n
		}
		if f.key == "vendor.impinj.search_mode" {
			body["vendor"] = map[string]any{"impinj": map[string]any{"search_mode": v}}
			continue
		}
		body[f.key] = v
	}
	if len(body) == 0 {
		return fs.usageError("give at least one setting, e.g. --tx-power-dbm 27")
	}
	if *antenna > 0 {
		body["antenna"] = *antenna
	}
	c, err := gatewayAPI(ctx, env, *cfgPath, *apiURL)
	if err != nil {
		return err
	}
	var out any
	if err := c.do("POST", "/readers/"+escape(pos[0])+"/rf", body, &out); err != nil {
		return err
	}
	return printJSON(env, out)
}

// gatewayAPI reaches a running gateway's HTTP API: at url, or at the
// http.listen of the configuration (-c FILE, else the defaults).
func gatewayAPI(ctx context.Context, env *cliEnv, cfgPath, url string) (*apiClient, error) {
	cfg, err := loadConfig(cfgPath, env.getenv)
	if err != nil {
		return nil, err
	}
	if url != "" {
		if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
			return nil, fmt.Errorf("--url %q: give the API's URL, e.g. http://10.0.0.5:8080", url)
		}
		return &apiClient{base: strings.TrimSuffix(url, "/"), token: cmp.Or(env.getenv(config.EnvHTTPToken), cfg.HTTP.Token), ctx: ctx}, nil
	}
	if cfg.HTTP.Listen == "" {
		return nil, errors.New("the gateway's HTTP API is disabled (http.listen): enable it, or give its address with --url")
	}
	c, err := probeAPI(ctx, cfg.HTTP.Listen, cfg.HTTP.Token)
	if err != nil {
		return nil, fmt.Errorf("%v: this retunes the reader of a running gateway; start it, pass its configuration with -c or its API with --url (with the gateway stopped, tune with dockgate reader watch --tune)", err)
	}
	return c, nil
}

// parseInterspersed parses flags given before and after positional
// arguments ("rf R1 --session 1") and returns the positional arguments.
func parseInterspersed(fs *cmdFlags, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}
