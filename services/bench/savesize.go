package main

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// layerTarSize sums the sizes of the layer tars in the archive that
// `docker save` writes, as its manifest.json names them. The manifest may
// come after the layers, so every entry's size is kept until the end.
func layerTarSize(archive io.Reader) (int64, error) {
	sizes := map[string]int64{}
	var manifest []struct{ Layers []string }
	tr := tar.NewReader(archive)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("reading the saved image: %w", err)
		}
		sizes[h.Name] = h.Size
		if h.Name == "manifest.json" {
			if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
				return 0, fmt.Errorf("manifest.json of the saved image: %w", err)
			}
		}
	}
	if len(manifest) != 1 || len(manifest[0].Layers) == 0 {
		return 0, errors.New("the saved image has no manifest.json with one image and its layers")
	}
	var total int64
	for _, l := range manifest[0].Layers {
		n, ok := sizes[l]
		if !ok {
			return 0, fmt.Errorf("the saved image's manifest names %s, which it does not hold", l)
		}
		total += n
	}
	return total, nil
}
