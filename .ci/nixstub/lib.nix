# The nixpkgs `lib` functions flake.nix uses, and nothing else, written here
# from their documented behaviour with builtins only, so that .ci/nix-check
# and tools/repocheck can evaluate the flake on a machine with no nixpkgs.
# If flake.nix starts using another lib function, add it here (evaluation
# says "attribute '...' missing" until then).
let
  # Characters that have a meaning in a POSIX extended regular expression.
  special = [ "\\" "[" "]" "{" "}" "(" ")" "^" "$" "?" "*" "+" "|" "." ];
in
{
  genAttrs =
    names: f:
    builtins.listToAttrs (
      map (name: {
        inherit name;
        value = f name;
      }) names
    );

  # "a\nb\n" -> [ "a" "b" "" ], as nixpkgs splits (the separator is literal).
  splitString =
    sep: s:
    builtins.filter builtins.isString (
      builtins.split (builtins.replaceStrings special (map (c: "\\" + c) special) sep) s
    );

  # Leading and trailing spaces, tabs, CRs and newlines removed.
  trim =
    s:
    let
      m = builtins.match "[ \t\r\n]*(.*[^ \t\r\n])[ \t\r\n]*" s;
    in
    if m == null then "" else builtins.head m;

  # The elements in first-seen order, each once.
  unique = builtins.foldl' (acc: x: if builtins.elem x acc then acc else acc ++ [ x ]) [ ];

  versions = {
    major = v: builtins.elemAt (builtins.splitVersion v) 0;
    majorMinor =
      v:
      let
        parts = builtins.splitVersion v;
      in
      "${builtins.elemAt parts 0}.${builtins.elemAt parts 1}";
  };

  versionAtLeast = v1: v2: builtins.compareVersions v1 v2 >= 0;

  optional = cond: x: if cond then [ x ] else [ ];

  optionalString = cond: s: if cond then s else "";

  # Single-quoted for a POSIX shell, inner single quotes as '\''.
  escapeShellArg = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString s) + "'";

  assertMsg = pred: msg: pred || builtins.throw msg;
}
