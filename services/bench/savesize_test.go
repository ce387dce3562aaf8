package main

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"
)

func TestLayerTarSize(t *testing.T) {
	type entry struct {
		name string
		size int
	}
	manifest := `[{"Config":"c.json","Layers":["a/layer.tar","b/layer.tar"]}]`
	tests := []struct {
		name    string
		entries []entry
		want    int64
		wantErr string
	}{
		{"the layers the manifest names are summed, other files are not", []entry{{"a/layer.tar", 1000}, {"c.json", 50}, {"b/layer.tar", 24}, {"manifest.json", -1}}, 1024, ""},
		{"a manifest that comes first counts as well", []entry{{"manifest.json", -1}, {"a/layer.tar", 1}, {"b/layer.tar", 2}}, 3, ""},
		{"a layer that is missing is an error", []entry{{"a/layer.tar", 1}, {"manifest.json", -1}}, 0, "does not hold"},
		{"an archive without a manifest is an error", []entry{{"a/layer.tar", 1}}, 0, "no manifest.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, e := range tt.entries {
				body := []byte(manifest)
				if e.size >= 0 {
					body = make([]byte, e.size)
				}
				if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(body))}); err != nil {
					t.Fatal(err)
				}
				if _, err := tw.Write(body); err != nil {
					t.Fatal(err)
				}
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := layerTarSize(&buf)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("layerTarSize = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}
