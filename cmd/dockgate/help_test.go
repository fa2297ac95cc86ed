package main

import (
	"sort"
	"strings"
	"testing"
)

// Every command and subcommand answers -h and --help with its usage on
// stdout and exit 0, and an unknown flag with the error and its usage on
// stderr and exit 2.
func TestHelpAndUnknownFlagAreTheSameEverywhere(t *testing.T) {
	paths := [][]string{{}}
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		paths = append(paths, []string{n})
		subs := make([]string, 0, len(commands[n].subs))
		for s := range commands[n].subs {
			subs = append(subs, s)
		}
		sort.Strings(subs)
		for _, s := range subs {
			paths = append(paths, []string{n, s})
		}
	}
	// The commands named in the issue are among them.
	have := map[string]bool{}
	for _, p := range paths {
		have[strings.Join(p, " ")] = true
	}
	for _, want := range []string{"sim", "sim printer", "sim reader", "lot", "lot new", "printer status", "reader watch", "run", "trace", "outbox", "version", "help"} {
		if !have[want] {
			t.Fatalf("no command %q to test", want)
		}
	}
	for _, p := range paths {
		name := strings.Join(append([]string{"dockgate"}, p...), " ")
		for _, h := range []string{"-h", "--help"} {
			out, errs, code := runCLI(t, append(append([]string{}, p...), h)...)
			if code != 0 || errs != "" || !strings.Contains(out, "sage:") || !strings.Contains(out, name) {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want 0 and the usage of %q on stdout only", name, h, code, out, errs, name)
			}
		}
		out, errs, code := runCLI(t, append(append([]string{}, p...), "--no-such-flag")...)
		if code != 2 || out != "" || !strings.Contains(errs, "no-such-flag") || !strings.Contains(errs, "sage:") || !strings.Contains(errs, name) {
			t.Errorf("%s --no-such-flag: exit %d, stdout %q, stderr %q; want 2, the error and the usage of %q on stderr only", name, code, out, errs, name)
		}
	}
	// "help COMMAND" is "COMMAND -h".
	out, _, code := runCLI(t, "help", "sim", "reader")
	if want, _, _ := runCLI(t, "sim", "reader", "-h"); code != 0 || out != want {
		t.Errorf("help sim reader: exit %d, %q; want %q", code, out, want)
	}
}
