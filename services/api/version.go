package main

import "github.com/gantry-dev/gantry/services/internal/buildinfo"

func versionLine() string { return buildinfo.String("gantry-api") }
