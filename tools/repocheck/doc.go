// Package repocheck holds the Bazel files to the rest of the repository.
//
// Bazel cannot run everywhere Gantry is checked, so these tests check what a
// Bazel build would otherwise find out late or never: MODULE.bazel's
// repositories against go.mod, labels against the packages they name,
// oci/BUILD.bazel evaluated with its macro (tools/bazelspec) against the
// pinned rules' attributes, every service binary against its image, each
// image's settings against compose/compose.yaml and its structure test, the
// stamping variables against tools/gobuild, the embedded migrations against
// the directory, the docs' promise of a build without a C compiler against
// .bazelrc and every go_binary and go_test. cross_test.go builds each
// service binary as its image needs it (static, for amd64 and arm64) and
// runs the arm64 one under qemu-user, and checks that two clean builds are
// bit-identical.
//
// The package has no code of its own; it runs under `go test ./...`. Under
// Bazel its go_test is manual: it reads the whole source tree and runs the go
// command, neither of which a sandboxed test has, so under `bazel test` the
// checks of the tree skip (repoRoot).
package repocheck
