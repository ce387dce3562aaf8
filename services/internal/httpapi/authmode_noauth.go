//go:build gantry_noauth

package httpapi

// authRequired is false in this build, for the benchmark's measure of what
// authentication costs (see authmode.go). Never ship it.
const authRequired = false
