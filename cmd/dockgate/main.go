// Command dockgate is the label-printing and RFID edge gateway for warehouse
// receiving docks. It is one binary with subcommands; run "dockgate help".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand. run gets the arguments after the command name and
// returns the process exit code's error: nil is exit 0, errHelp (usage
// printed on stdout) is exit 0 too, an exitError carries its own code
// (errBadUsage: 2), anything else is one line on stderr and exit 1.
//
// A command made of subcommands ("lot new", "sim printer") has subs instead
// of run: runMain dispatches to them the same way for every such command.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
	subs    map[string]func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv is what a subcommand may touch of the process.
type cliEnv struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

var commands = map[string]*command{}

// register adds a subcommand; each subcommand file calls it from init.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("dockgate: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// exitError makes a command exit with a code other than 1 without a message,
// or with one.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

var (
	// errHelp: -h or --help printed the usage on stdout; exit 0.
	errHelp = errors.New("help")
	// errBadUsage: what was wrong and the usage are already on stderr;
	// exit 2.
	errBadUsage = &exitError{code: 2}
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func runMain(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 {
		usage(env.stderr)
		return 2
	}
	name := args[0]
	if name == "-h" || name == "--help" {
		name = "help"
	}
	c, ok := commands[name]
	if !ok && strings.HasPrefix(name, "-") {
		fmt.Fprintf(env.stderr, "dockgate: flag provided but not defined: %s (flags go after the command)\n", name)
		usage(env.stderr)
		return 2
	}
	if !ok {
		fmt.Fprintf(env.stderr, "dockgate: unknown command %q; run \"dockgate help\" for the list\n", args[0])
		return 2
	}
	var err error
	if c.subs != nil {
		err = c.dispatch(ctx, env, args[1:])
	} else {
		err = c.run(ctx, env, args[1:])
	}
	var ee *exitError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(env.stderr, ee.msg)
		}
		return ee.code
	default:
		fmt.Fprintf(env.stderr, "dockgate %s: %s\n", c.name, oneLine(err.Error()))
		return 1
	}
}

// oneLine folds a multi-line error into one line for stderr.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "dockgate: label-printing and RFID edge gateway")
	fmt.Fprintln(w, "\nUsage: dockgate COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"dockgate COMMAND -h\" for a command's flags.")
}

func init() {
	register(&command{name: "help", summary: "help [COMMAND]: list the commands, or show a command's usage", run: func(ctx context.Context, env *cliEnv, args []string) error {
		fs := newFlags(env, "help", "dockgate help [COMMAND [SUBCOMMAND]]")
		if err := fs.parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			usage(env.stdout)
			return nil
		}
		if _, ok := commands[fs.Arg(0)]; !ok {
			return fs.usageError("no command %q; run \"dockgate help\" for the list", fs.Arg(0))
		}
		// "help lot new" is "lot new -h".
		if code := runMain(ctx, env, append(fs.Args(), "-h")); code != 0 {
			return &exitError{code: code}
		}
		return errHelp
	}})
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

// dispatch runs the subcommand args name: "-h" or "help" prints the
// subcommands on stdout, a flag before the subcommand, a missing or an
// unknown one prints what is wrong and the usage on stderr (exit 2).
func (c *command) dispatch(ctx context.Context, env *cliEnv, args []string) error {
	names := make([]string, 0, len(c.subs))
	for n := range c.subs {
		names = append(names, n)
	}
	sort.Strings(names)
	printUsage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: dockgate %s SUBCOMMAND [flags]\n\n%s\n\nSubcommands: %s\n\nRun \"dockgate %s SUBCOMMAND -h\" for its flags.\n",
			c.name, c.summary, strings.Join(names, ", "), c.name)
	}
	bad := func(format string, a ...any) error {
		fmt.Fprintf(env.stderr, "dockgate %s: %s\n", c.name, fmt.Sprintf(format, a...))
		printUsage(env.stderr)
		return errBadUsage
	}
	switch {
	case len(args) == 0:
		return bad("name a subcommand: %s", strings.Join(names, ", "))
	case isHelp(args[0]):
		printUsage(env.stdout)
		return errHelp
	case strings.HasPrefix(args[0], "-"):
		return bad("flag provided but not defined: %s (flags go after the subcommand)", args[0])
	}
	f, ok := c.subs[args[0]]
	if !ok {
		return bad("unknown subcommand %q; choose one of: %s", args[0], strings.Join(names, ", "))
	}
	return f(ctx, env, args[1:])
}

// cmdFlags is a command's flag set with its synopsis, parsed the same way by
// every command: -h or --help prints the usage on stdout (exit 0); a flag it
// does not know, or a bad value, prints the error and the usage on stderr
// (exit 2).
type cmdFlags struct {
	*flag.FlagSet
	env *cliEnv
	// synopsis is the command line, one line per form, e.g.
	// "dockgate trace [-c FILE] [--data-dir DIR] lot CODE".
	synopsis string
}

func newFlags(env *cliEnv, name, synopsis string) *cmdFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	// The usage is printed by parse, on stdout or stderr as the case may be.
	fs.Usage = func() {}
	return &cmdFlags{FlagSet: fs, env: env, synopsis: synopsis}
}

// parse parses args; the error it returns is the command's to return.
func (f *cmdFlags) parse(args []string) error {
	err := f.FlagSet.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		f.printUsage(f.env.stdout)
		return errHelp
	default:
		// The flag package has printed the error on stderr.
		f.printUsage(f.env.stderr)
		return errBadUsage
	}
}

// usageError prints msg and the usage on stderr: exit 2.
func (f *cmdFlags) usageError(format string, a ...any) error {
	fmt.Fprintf(f.env.stderr, "dockgate %s: %s\n", f.Name(), fmt.Sprintf(format, a...))
	f.printUsage(f.env.stderr)
	return errBadUsage
}

func (f *cmdFlags) printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage:")
	for _, l := range strings.Split(f.synopsis, "\n") {
		fmt.Fprintln(w, "  "+l)
	}
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "flags:")
		f.SetOutput(w)
		f.PrintDefaults()
		f.SetOutput(f.env.stderr)
	}
}
