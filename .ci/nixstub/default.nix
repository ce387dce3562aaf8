# A stand-in for the nixpkgs flake input, for evaluating flake.nix offline.
# Nothing here can be built: every package is a derivation whose builder
# fails. It only answers what evaluation asks: `lib`, and for each system
# `legacyPackages.<system>` with the attributes flake.nix uses, each a
# derivation with `pname`, `version`, `name` and `stubAttr` (the attribute
# name, so a test can see which one the flake picked).
#
# The versions are fake. `versions` overrides them (attribute -> version) to
# model a nixpkgs that agrees, or disagrees, with the repository's version
# files; .ci/nix-check writes versions.json for the flake form (flake.nix).
# Whether the real pinned nixpkgs carries those versions is for a networked
# `nix flake check` to say.
{
  versions ? { },
}:
let
  defaults = {
    bazel_7 = "7.0.0";
    bazel_8 = "8.0.0";
    bazel_9 = "9.0.0";
    go_1_25 = "1.25.0";
    go_1_26 = "1.26.0";
    go_1_27 = "1.27.0";
    postgresql_15 = "15.0";
    postgresql_16 = "16.0";
    postgresql_17 = "17.0";
    postgresql_18 = "18.0";
    bazel-buildtools = "0-stub";
    bazel-gazelle = "0-stub";
    bazelisk = "0-stub";
    crane = "0-stub";
    docker-client = "0-stub";
    go-migrate = "0-stub";
    golangci-lint = "0-stub";
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
