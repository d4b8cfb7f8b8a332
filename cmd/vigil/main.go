// Command vigil runs a medical-device manufacturer's postmarket cybersecurity program: the server and the CLI.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigil-dev/vigil/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
