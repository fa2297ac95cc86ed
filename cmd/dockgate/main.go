// Command dockgate is the label-printing and RFID edge gateway for warehouse
// receiving docks. It is one binary with subcommands; run "dockgate help".
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand. run gets the arguments after the command name and
// returns the process exit code's error: nil is exit 0, errUsage prints usage,
// an exitError carries its own code, anything else is one line on stderr and
// exit 1.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
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

var errUsage = errors.New("usage")

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
	if !ok {
		fmt.Fprintf(env.stderr, "dockgate: unknown command %q; run \"dockgate help\" for the list\n", args[0])
		return 2
	}
	err := c.run(ctx, env, args[1:])
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(env.stderr, "dockgate %s: %s\n", c.name, c.summary)
		return 2
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
	register(&command{name: "help", summary: "list the commands", run: func(_ context.Context, env *cliEnv, _ []string) error {
		usage(env.stdout)
		return nil
	}})
}
