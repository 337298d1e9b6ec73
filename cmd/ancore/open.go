package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"time"

	"github.com/ancore/ancore/node/api"
)

// openerGrace is how long runOpen waits to hear that xdg-open failed;
// one still running then is showing the page (it may wait for the
// browser it started to exit).
const openerGrace = 3 * time.Second

// runOpen is `ancore open`: it prints the address of the UI of the node
// running on the data folder, token included, and opens it in the
// default browser. Reading the token from the data folder is the proof of
// being the local user, as for the address the node prints at start.
func runOpen(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ancore open", flag.ContinueOnError)
	data := dataFlag(fs)
	printOnly := fs.Bool("print", false, "only print the address, do not open a browser")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ancore open [--data DIR] [--print]\n\nOpens the UI of the node running on the data folder in the default browser\n(xdg-open), with the API token, and prints its address. Flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("open: unexpected argument %q", fs.Arg(0))
	}
	info, err := api.Running(ctx, *data)
	if errors.Is(err, api.ErrNoNode) {
		return fmt.Errorf("%w; start one with: ancore --data %s", err, *data)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, info.OpenURL())
	if *printOnly {
		return nil
	}
	opener, err := exec.LookPath("xdg-open")
	if err != nil {
		fmt.Fprintln(stdout, "No xdg-open here: open the address above in a browser.")
		return nil
	}
	cmd := exec.Command(opener, info.OpenURL())
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("xdg-open: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("xdg-open: %w; open the address above in a browser", err)
		}
	case <-time.After(openerGrace):
	}
	return nil
}
