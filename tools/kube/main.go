// Command kube runs Kubernetes on this machine, from binaries built from
// the Go module proxy (tools/kube/build-binaries), for proving manifests:
// a throwaway control plane that validates them server-side, and a real
// single-node cluster that runs them, torn down with the host restored.
//
//	go run ./tools/kube validate -k deploy/overlays/dev
//	go run ./tools/kube up && go run ./tools/kube import gantry/api:latest
//	go run ./tools/kube down
//	bazel run --config=release //oci:push | go run ./tools/kube pin
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube: "+err.Error())
		os.Exit(exitCode(err))
	}
}
