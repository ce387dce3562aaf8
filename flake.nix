{
  description = "Gantry's developer toolchain: Go, Bazel, Docker with compose, PostgreSQL";

  # The only input. flake.lock pins its commit: nixos-unstable at
  # 2026-05-23, the last revision before nixos-26.05 branched, the newest
  # commit whose versions a public record shows (tools/nix/pinned-versions.json,
  # docs/nix.md). `nix flake update` moves the pin; then refresh that record:
  # the recorded-versions check and tools/repocheck fail until it is.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;

      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "aarch64-darwin"
        # nixpkgs drops x86_64-darwin after 26.05 (26.05 warns); remove it
        # when the pin moves past that.
        "x86_64-darwin"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # The versions are not written here: they come from the files the rest
      # of the repository reads, and the flake picks the nixpkgs attributes
      # that match. A flake sees only files git tracks, so these must be
      # committed (or at least `git add`ed) for `nix develop` to read them.

      # The distinct values of capture group `group` over the lines of
      # `text` that match `re`, a POSIX extended regex matched against the
      # whole line.
      captures =
        text: group: re:
        lib.unique (
          map (m: builtins.elemAt m group) (
            builtins.filter (m: m != null) (map (builtins.match re) (lib.splitString "\n" text))
          )
        );

      # The one value of `captures`, or null when no line matches; several
      # lines may match if they agree.
      captureOptional =
        file: text: group: re:
        let
          found = captures text group re;
        in
        if found == [ ] then
          null
        else if builtins.length found == 1 then
          builtins.head found
        else
          throw "flake.nix reads ${file} and expects at most one value on the lines matching /${re}/; found ${toString found}";

      capture =
        file: text: group: re:
        let
          found = captureOptional file text group re;
        in
        if found == null then
          throw "flake.nix reads ${file} and expects a line matching /${re}/; found none"
        else
          found;

      # .bazelversion, e.g. "9.0.1": what bazelisk runs, and the only Bazel
      # nixpkgs' bazel_<major> may be.
      bazelVersion = lib.trim (builtins.readFile ./.bazelversion);
      bazelMajor = lib.versions.major bazelVersion;

      # go.mod, read as rules_go's go_sdk.from_file reads it: the toolchain
      # line (go1.26.8) if there is one, else the go line (`go mod tidy`
      # drops a toolchain line that equals the go line). The shell gets
      # nixpkgs' Go of that minor (nixpkgs chooses the patch). The go line
      # is the oldest Go that may build the module; with GOTOOLCHAIN=local
      # the shell's Go must be at least that.
      goMod = builtins.readFile ./go.mod;
      goLine = capture "go.mod" goMod 0 "go ([0-9]+[.][0-9]+([.][0-9]+)?)[[:space:]]*";
      goToolchain =
        captureOptional "go.mod" goMod 0
          "toolchain go([0-9]+[.][0-9]+[.][0-9]+)[[:space:]]*";
      goVersion = if goToolchain == null then goLine else goToolchain;
      goSource = if goToolchain == null then "go line" else "toolchain line";
      goMinor = lib.versions.majorMinor goVersion;
      goAttr = "go_" + builtins.replaceStrings [ "." ] [ "_" ] goMinor;

      # compose/compose.yaml: the db service's image gives the PostgreSQL
      # major of the shell's psql, pg_dump, initdb and pg_ctl (the database
      # tests start their own server with the last two). The image may carry
      # a registry and namespace (docker.io/library/postgres:17, as Podman
      # needs), a ${VAR:-...} default, a patch, a variant or a digest. The
      # same rule, on the same table of cases, is tools/repocheck's
      # (testdata/postgres-images.json).
      pgMajor =
        capture "compose/compose.yaml" (builtins.readFile ./compose/compose.yaml) 2
          "[[:space:]]*image:[[:space:]]*[\"']?([$][{][A-Za-z0-9_]+:?-)?([^/[:space:]\"'}]+/)*postgres:([0-9]+)([^0-9[:space:]\"'}][^[:space:]\"'}]*)?[}]?[\"']?[[:space:]]*(#.*)?";

      # What the pinned nixpkgs carries, each version with its evidence.
      # The offline checks model nixpkgs with these; `recorded-versions`
      # holds the record to the real pin.
      pinned = builtins.fromJSON (builtins.readFile ./tools/nix/pinned-versions.json);
      pin = "nixpkgs (flake.lock)";

      # The versioned packages, checked against the files. Go and
      # PostgreSQL must match or nothing evaluates. A Bazel that does not
      # match leaves the shell without Bazel, with a warning, and fails the
      # checks: Go, Docker and PostgreSQL stay usable meanwhile.
      toolchain =
        pkgs:
        let
          pick =
            attr: asks:
            pkgs.${attr}
              or (throw "${asks}, but ${pin} has no ${attr}: change that file, or move flake.lock to a nixpkgs that has ${attr}");
          go = pick goAttr "go.mod's ${goSource} says go${goVersion}";
          postgresql = pick "postgresql_${pgMajor}" "compose/compose.yaml runs postgres:${pgMajor}";
          bazelAttr = "bazel_${bazelMajor}";
          bazel = pkgs.${bazelAttr} or null;
          # Why the pin's Bazel cannot be used, or null when it can.
          bazelDrift =
            if bazel == null then
              ".bazelversion says ${bazelVersion}, but ${pin} has no ${bazelAttr}: change .bazelversion to a release the pin carries (tools/nix/pinned-versions.json), or move flake.lock"
            else if bazel.version != bazelVersion then
              ".bazelversion says ${bazelVersion}, but ${bazelAttr} in ${pin} is ${bazel.version}: change .bazelversion to ${bazel.version}, or move flake.lock to a nixpkgs whose ${bazelAttr} is ${bazelVersion}"
            else
              null;
        in
        assert lib.assertMsg (lib.versions.majorMinor go.version == goMinor)
          "go.mod's ${goSource} says go${goVersion}, but ${goAttr} in ${pin} is ${go.version}";
        assert lib.assertMsg (lib.versionAtLeast go.version goLine)
          "go.mod's go line says ${goLine}, but ${goAttr} in ${pin} is ${go.version}, older, and GOTOOLCHAIN=local forbids switching: lower go.mod's go line, or move flake.lock forward";
        assert lib.assertMsg (lib.versions.major postgresql.version == pgMajor)
          "compose/compose.yaml runs postgres:${pgMajor}, but postgresql_${pgMajor} in ${pin} is ${postgresql.version}";
        {
          inherit go postgresql bazelDrift;
          bazel = if bazelDrift == null then bazel else null;
          packages =
            # build: nixpkgs' Bazel runs on NixOS too (bazelisk does not);
            # it downloads the Go SDK that go.mod names, as under bazelisk.
            # gazelle, buildifier, buildozer and golangci-lint are not
            # nixpkgs' releases: the shell puts tools/bin first on PATH,
            # whose wrappers build the versions .ci/tools pins (gazelle at
            # MODULE.bazel's release), so the shell and CI never disagree.
            lib.optional (bazelDrift == null) bazel
            ++ [
              # Go, for `go test`, editors and linters outside Bazel
              go
              pkgs.gopls
              # containers: the docker CLI with its compose plugin; the
              # daemon is the host's (Docker Desktop, colima, NixOS's docker)
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
          warning = lib.optionalString (t.bazelDrift != null) ''
            printf '\n%s\n%s\n\n' ${lib.escapeShellArg "gantry: WARNING: ${t.bazelDrift}"} \
              'gantry: this shell has no bazel; go, docker and postgresql work. `nix flake check` fails until the versions agree.' >&2
          '';
          bazelInfo = if t.bazel == null then "none (see the warning)" else t.bazel.version;
        in
        pkgs.mkShell {
          name = "gantry";
          inherit (t) packages;
          # go never downloads another toolchain: a go.mod the shell's Go
          # cannot build fails instead of silently running a different Go.
          GOTOOLCHAIN = "local";
          # mkShell brings a C compiler, so a plain `go build` would link
          # cgo against Nix's glibc; the images hold static, libc-free
          # binaries, and so does the shell. `CGO_ENABLED=1 go test -race`
          # when the race detector is wanted.
          CGO_ENABLED = "0";
          # nixpkgs' bazel wrapper, like bazelisk, honours this before
          # .bazelversion; one exported for bazelisk elsewhere must not win.
          USE_BAZEL_VERSION = bazelVersion;
          # To stderr, so `nix develop --command ...` output stays clean.
          shellHook = ''
            ${warning}
            gantry_root=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
            if [ -d "$gantry_root/tools/bin" ]; then PATH=$gantry_root/tools/bin:$PATH; fi
            unset gantry_root
            echo "gantry: go ${t.go.version}, bazel ${bazelInfo}, postgresql ${t.postgresql.version} (GOTOOLCHAIN=local, CGO_ENABLED=0)" >&2
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
          # Every recorded attribute whose real version differs.
          stale = builtins.filter (attr: (pkgs.${attr}.version or "missing") != pinned.packages.${attr}.version) (
            builtins.attrNames pinned.packages
          );
        in
        {
          # The shell evaluates and, built, every package in it exists for
          # this system.
          shell = devShell pkgs;

          # The binaries in the shell run and print the versions the files
          # ask for; the compose plugin and the server binaries are there.
          # A Bazel that drifted, which the shell only warns about, fails
          # here. `bazel --version` runs in a workspace (MODULE.bazel and
          # .bazelversion), where the wrapper picks its release, both with
          # USE_BAZEL_VERSION (as in the shell) and without it.
          versions-agree =
            assert lib.assertMsg (t.bazelDrift == null) t.bazelDrift;
            pkgs.runCommand "gantry-versions-agree"
              {
                nativeBuildInputs = t.packages;
                inherit bazelVersion goMinor pgMajor;
                moduleBazel = ./MODULE.bazel;
                dotBazelversion = ./.bazelversion;
              }
              ''
                export HOME=$TMPDIR GOTOOLCHAIN=local
                fail() { echo "versions-agree: $*" >&2; exit 1; }
                for tool in bazel go gopls docker crane jq psql postgres initdb pg_ctl migrate; do
                  command -v "$tool" >/dev/null || fail "the shell has no $tool"
                done
                mkdir workspace
                cp "$moduleBazel" workspace/MODULE.bazel
                cp "$dotBazelversion" workspace/.bazelversion
                for use in "" "$bazelVersion"; do
                  v=$(cd workspace && USE_BAZEL_VERSION=$use bazel --version)
                  case $v in "bazel $bazelVersion" | "bazel $bazelVersion"[-\ ]*) ;;
                    *) fail ".bazelversion says $bazelVersion, but bazel --version in a workspace (USE_BAZEL_VERSION='$use') prints: $v" ;;
                  esac
                done
                v=$(go version)
                case $v in "go version go$goMinor."*) ;;
                  *) fail "go.mod asks for Go $goMinor, but the shell's go version prints: $v" ;;
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

          # tools/nix/pinned-versions.json is what the offline checks take
          # nixpkgs to be: it must be this pin, and carry its versions.
          recorded-versions =
            assert lib.assertMsg (!(nixpkgs ? rev) || nixpkgs.rev == pinned.nixpkgs.rev)
              "tools/nix/pinned-versions.json records nixpkgs ${pinned.nixpkgs.rev}, but flake.lock pins ${nixpkgs.rev or "?"}: refresh the record for the new pin";
            assert lib.assertMsg (stale == [ ])
              "tools/nix/pinned-versions.json records versions that ${pin} does not carry: ${
                toString (map (a: "${a} ${pinned.packages.${a}.version} (nixpkgs: ${pkgs.${a}.version or "missing"})") stale)
              }; refresh the record";
            pkgs.runCommand "gantry-recorded-versions" { } "touch $out";
        }
      );
    };
}
