# A stand-in for the nixpkgs flake input, for evaluating flake.nix offline.
# Nothing here can be built: every package is a derivation whose builder
# fails. It only answers what evaluation asks: `lib`, and for each system
# `legacyPackages.<system>` with the attributes flake.nix uses, each a
# derivation with `pname`, `version`, `name` and `stubAttr` (the attribute
# name, so a test can see which one the flake picked).
#
# Versioned attributes (bazel_N, go_1_N, postgresql_N) exist only as
# `versions` (attribute -> version) gives them: .ci/nix-check and
# tools/repocheck pass tools/nix/pinned-versions.json, what the real pin is
# recorded to carry, so a version file that asks for something the pin lacks
# fails here as it would under the real nixpkgs. Tests pass other versions
# to model a pin that agrees, or disagrees, with the files. The unversioned
# tools below carry fake versions; nothing reads them.
{
  versions ? { },
}:
let
  defaults = {
    crane = "0-stub";
    docker-client = "0-stub";
    go-migrate = "0-stub";
    gopls = "0-stub";
    jq = "0-stub";
    nixfmt-tree = "0-stub";
  };

  systems = [
    "x86_64-linux"
    "aarch64-linux"
    "aarch64-darwin"
    "x86_64-darwin"
  ];

  # A derivation that fails if anyone tries to build it.
  unbuildable =
    system: attrs:
    derivation (
      {
        inherit system;
        builder = "/bin/sh";
        args = [
          "-c"
          "echo '.ci/nixstub: a stand-in for nixpkgs; nothing here can be built' >&2; exit 1"
        ];
      }
      // attrs
    );

  pkgsFor =
    system:
    builtins.mapAttrs (
      attr: version:
      unbuildable system {
        name = "${attr}-${version}";
        pname = attr;
        stubAttr = attr;
        inherit version;
      }
    ) (defaults // versions)
    // {
      # Like nixpkgs' mkShell: `packages` join nativeBuildInputs, `passthru`
      # is merged into the result, every other argument becomes an
      # environment variable (so it must be a string, a number, a path, a
      # derivation or a list of those, as for a real derivation).
      mkShell =
        args:
        unbuildable system (
          removeAttrs args [
            "packages"
            "passthru"
          ]
          // {
            name = args.name or "nix-shell";
            nativeBuildInputs = (args.nativeBuildInputs or [ ]) ++ (args.packages or [ ]);
          }
        )
        // (args.passthru or { })
        // {
          stubPackages = args.packages or [ ];
        };

      # Like nixpkgs' runCommand name env buildCommand.
      runCommand =
        name: env: buildCommand:
        unbuildable system ({ inherit name buildCommand; } // env);

      stdenv.hostPlatform.system = system;
    };
in
{
  lib = import ./lib.nix;
  legacyPackages = builtins.listToAttrs (
    map (system: {
      name = system;
      value = pkgsFor system;
    }) systems
  );
}
