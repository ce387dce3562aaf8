# .ci/nixstub as a flake, to replace the nixpkgs input:
#   nix flake check --no-build --override-input nixpkgs path:.ci/nixstub path:.
# versions.json (written by .ci/nix-check, not committed) sets the versions.
{
  description = "Offline stand-in for nixpkgs: lib and fake packages";

  outputs =
    { self }:
    import ./default.nix {
      versions =
        if builtins.pathExists ./versions.json then
          builtins.fromJSON (builtins.readFile ./versions.json)
        else
          { };
    };
}
