package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and commit are set at build time with
// -ldflags "-X main.version=… -X main.commit=…"; otherwise they come from the
// module build info.
var (
	version = ""
	commit  = ""
)

func buildVersion() (ver, rev string) {
	ver, rev = version, commit
	if info, ok := debug.ReadBuildInfo(); ok {
		if ver == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			ver = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && rev == "" {
				rev = s.Value
			}
		}
	}
	if ver == "" {
		ver = "dev"
	}
	if rev == "" {
		rev = "unknown"
	}
	return ver, rev
}

func init() {
	register(&command{name: "version", summary: "print version, commit and Go version", run: func(_ context.Context, env *cliEnv, args []string) error {
		fs := newFlags(env, "version", "dockgate version")
		if err := fs.parse(args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fs.usageError("unexpected argument %q", fs.Arg(0))
		}
		v, c := buildVersion()
		fmt.Fprintf(env.stdout, "dockgate %s (commit %s, %s %s/%s)\n", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	}})
}
