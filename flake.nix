{
  description = "Gantry's developer toolchain: Go, Bazel, Docker with compose, PostgreSQL";

  # The only input. flake.lock pins its commit; `nix flake update` moves the
  # pin along the release branch, and changing the branch here moves to the
  # next release.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;

      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "aarch64-darwin"
        # nixos-26.05 is the last release with x86_64-darwin (evaluation
        # warns); remove it when moving to nixos-26.11.
        "x86_64-darwin"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # The versions are not written here: they come from the files the rest
      # of the repository reads, and the flake picks the nixpkgs attributes
      # that match. A flake sees only files git tracks, so these must be
      # committed (or at least `git add`ed) for `nix develop` to read them.

      # The capture group `group` of the one line of `text` (from `file`)
      # that matches `re`, a POSIX extended regex matched against the whole
      # line. Several lines may match if they agree.
      capture =
        file: text: group: re:
        let
          found = lib.unique (
            map (m: builtins.elemAt m group) (
              builtins.filter (m: m != null) (map (builtins.match re) (lib.splitString "\n" text))
            )
          );
        in
        if builtins.length found == 1 then
          builtins.head found
        else
          throw "flake.nix reads ${file} and expects one line matching /${re}/; found ${toString (builtins.length found)} values: ${toString found}";

      # .bazelversion, e.g. "9.2.0": what bazelisk runs, and the only Bazel
      # nixpkgs' bazel_<major> may be.
      bazelVersion = lib.trim (builtins.readFile ./.bazelversion);
      bazelMajor = lib.versions.major bazelVersion;

      # go.mod: the toolchain line (go1.26.8) is the Go that Bazel's
      # go_sdk.from_file builds with; the shell gets nixpkgs' Go of the same
      # minor (nixpkgs chooses the patch). The go line (1.26.0) is the oldest
      # Go that may build the module; with GOTOOLCHAIN=local the shell's Go
      # must be at least that.
      goMod = builtins.readFile ./go.mod;
      goToolchain = capture "go.mod" goMod 0 "toolchain go([0-9]+[.][0-9]+[.][0-9]+)[[:space:]]*";
      goLine = capture "go.mod" goMod 0 "go ([0-9]+[.][0-9]+([.][0-9]+)?)[[:space:]]*";
      goMinor = lib.versions.majorMinor goToolchain;
      goAttr = "go_" + builtins.replaceStrings [ "." ] [ "_" ] goMinor;

      # compose/compose.yaml: the db service's image,
      # ${GANTRY_POSTGRES_IMAGE:-postgres:17} (or a plain postgres:17.6),
      # gives the PostgreSQL major of the shell's psql, pg_dump, initdb and
      # pg_ctl (the database tests start their own server with the last two).
      pgMajor =
        capture "compose/compose.yaml" (builtins.readFile ./compose/compose.yaml) 1
          "[[:space:]]*image:[[:space:]]*[\"']?([$][{][A-Za-z0-9_]+:?-)?postgres:([0-9]+)[^[:space:]\"'}]*[}]?[\"']?[[:space:]]*(#.*)?";

      # The versioned packages, checked against the files. Evaluation of the
      # shell or of any check fails with one of these messages on drift.
      toolchain =
        pkgs:
        let
          pin = "nixpkgs (flake.lock)";
          pick =
            attr: asks:
            pkgs.${attr}
              or (throw "${asks}, but ${pin} has no ${attr}: change that file, or move flake.lock to a nixpkgs that has ${attr}");
          bazel = pick "bazel_${bazelMajor}" ".bazelversion says ${bazelVersion}";
          go = pick goAttr "go.mod's toolchain line says go${goToolchain}";
          postgresql = pick "postgresql_${pgMajor}" "compose/compose.yaml runs postgres:${pgMajor}";
        in
        assert lib.assertMsg (bazel.version == bazelVersion)
          ".bazelversion says ${bazelVersion}, but bazel_${bazelMajor} in ${pin} is ${bazel.version}: change .bazelversion to ${bazel.version}, or move flake.lock to a nixpkgs whose bazel_${bazelMajor} is ${bazelVersion}";
        assert lib.assertMsg (lib.versions.majorMinor go.version == goMinor)
          "go.mod's toolchain line says go${goToolchain}, but ${goAttr} in ${pin} is ${go.version}";
        assert lib.assertMsg (lib.versionAtLeast go.version goLine)
          "go.mod's go line says ${goLine}, but ${goAttr} in ${pin} is ${go.version}, older, and GOTOOLCHAIN=local forbids switching: lower go.mod's go line, or move flake.lock forward";
        assert lib.assertMsg (lib.versions.major postgresql.version == pgMajor)
          "compose/compose.yaml runs postgres:${pgMajor}, but postgresql_${pgMajor} in ${pin} is ${postgresql.version}";
        {
          inherit bazel go postgresql;
          packages = [
            # build: nixpkgs' Bazel runs on NixOS too (bazelisk does not);
            # it downloads the Go SDK that go.mod names, as under bazelisk.
            bazel
            pkgs.bazel-buildtools # buildifier, buildozer
            # nixpkgs' gazelle release may lag MODULE.bazel's; the BUILD
            # files are what `bazel run //:gazelle` (MODULE.bazel's release)
            # or .ci/bazel-check (the same release, from the Go proxy)
            # writes, and //:gazelle_test holds them to it.
            pkgs.bazel-gazelle
            # Go, for `go test`, editors and linters outside Bazel
            go
            pkgs.gopls
            pkgs.golangci-lint
            # containers: the docker CLI with its compose plugin; the daemon
            # is the host's (Docker Desktop, colima, NixOS's docker service)
            pkgs.docker-client
            pkgs.crane
            pkgs.jq
            # database: client and server binaries, and the migration CLI
            postgresql
            pkgs.go-migrate
          ];
        };

      devShell =
        pkgs:
        let
          t = toolchain pkgs;
        in
        pkgs.mkShell {
          name = "gantry";
          inherit (t) packages;
          # go never downloads another toolchain: a go.mod the shell's Go
          # cannot build fails instead of silently running a different Go.
          GOTOOLCHAIN = "local";
          # To stderr, so `nix develop --command ...` output stays clean.
          shellHook = ''
            echo "gantry: go ${t.go.version}, bazel ${t.bazel.version}, postgresql ${t.postgresql.version} (GOTOOLCHAIN=local)" >&2
          '';
        };
    in
    {
      devShells = forAllSystems (pkgs: {
        default = devShell pkgs;
      });

      formatter = forAllSystems (pkgs: pkgs.nixfmt-tree);

      checks = forAllSystems (
        pkgs:
        let
          t = toolchain pkgs;
        in
        {
          # The shell evaluates (the version files agree with nixpkgs) and,
          # built, every package in it exists for this system.
          shell = devShell pkgs;

          # The binaries in the shell run and print the versions the files
          # ask for; the compose plugin and the server binaries are there.
          versions-agree =
            pkgs.runCommand "gantry-versions-agree"
              {
                nativeBuildInputs = t.packages;
                inherit bazelVersion goMinor pgMajor;
              }
              ''
                export HOME=$TMPDIR GOTOOLCHAIN=local
                fail() { echo "versions-agree: $*" >&2; exit 1; }
                for tool in bazel buildifier buildozer gazelle go gopls golangci-lint \
                  docker crane jq psql postgres initdb pg_ctl migrate; do
                  command -v "$tool" >/dev/null || fail "the shell has no $tool"
                done
                v=$(bazel --version)
                case $v in "bazel $bazelVersion" | "bazel $bazelVersion"[-\ ]*) ;;
                  *) fail ".bazelversion says $bazelVersion, but the shell's bazel --version prints: $v" ;;
                esac
                v=$(go version)
                case $v in "go version go$goMinor."*) ;;
                  *) fail "go.mod's toolchain is Go $goMinor, but the shell's go version prints: $v" ;;
                esac
                for tool in psql postgres initdb pg_ctl; do
                  v=$("$tool" --version)
                  case $v in *" $pgMajor."*) ;;
                    *) fail "compose/compose.yaml runs postgres:$pgMajor, but the shell's $tool --version prints: $v" ;;
                  esac
                done
                docker compose version || fail "the shell's docker has no compose plugin"
                echo "bazel $bazelVersion, go $goMinor, postgresql $pgMajor" >$out
              '';
        }
      );
    };
}
