# Evaluates the outputs of the flake.nix in flakeDir against this stub,
# without the flake machinery: plain nix-instantiate, which reads the
# directory as it is (git or not). tools/repocheck uses it to see which
# nixpkgs attributes the flake picks.
#   nix-instantiate --eval --strict --json .ci/nixstub/eval.nix \
#     --argstr flakeDir "$PWD" --argstr versionsJSON '{"bazel_9":"9.0.1"}'
# `-A shells` (or shell, formatter) evaluates that part alone: the shell
# must evaluate where a check fails.
{
  flakeDir,
  versionsJSON ? "{}",
}:
let
  flake = import (flakeDir + "/flake.nix");
  nixpkgs = import ./default.nix { versions = builtins.fromJSON versionsJSON; };
  self = flake.outputs { inherit self nixpkgs; };
  linux = self.devShells.x86_64-linux.default;
in
{
  # system -> the attributes of the shell's packages, in order
  shells = builtins.mapAttrs (_: s: map (p: p.stubAttr) s.default.stubPackages) self.devShells;
  # the x86_64-linux shell's environment
  shell = {
    GOTOOLCHAIN = linux.GOTOOLCHAIN or null;
    CGO_ENABLED = linux.CGO_ENABLED or null;
    USE_BAZEL_VERSION = linux.USE_BAZEL_VERSION or null;
    shellHook = linux.shellHook or "";
  };
  # system -> check -> its .drv path: forces every check, as `nix flake check` does
  checks = builtins.mapAttrs (_: builtins.mapAttrs (_: c: c.drvPath)) (self.checks or { });
  formatter = builtins.mapAttrs (_: f: f.stubAttr) (self.formatter or { });
}
