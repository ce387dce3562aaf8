package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gantry-dev/gantry/tools/gobuild"
	"github.com/gantry-dev/gantry/tools/kube/manifests"
)

// pin writes the prod overlay's image Component from the references a push
// printed: every image deploy/base runs, by digest.
func pin(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("pin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "", "the file to write")
	if err := fs.Parse(args); err != nil {
		return usageError{"pin: " + err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"pin reads the push's output on stdin and takes no arguments but -o FILE"}
	}
	root, err := gobuild.FindRoot(".")
	if err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(root, manifests.Component)
	}
	base, _, err := manifests.Render(filesys.MakeFsOnDisk(), filepath.Join(root, "deploy", "base"))
	if err != nil {
		return err
	}
	pins, err := manifests.Pin(manifests.Images(base), stdin)
	if err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	if err := os.WriteFile(*out, manifests.ComponentYAML(pins), 0o644); err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	for _, p := range pins {
		if _, err := fmt.Fprintf(stdout, "pin: %s -> %s@%s\n", p.Name, p.Repository, p.Digest); err != nil {
			return err
		}
	}
	return nil
}
