package bazelspec

// The rules and macros a BUILD file here may call, each with the attributes
// the pinned version declares, transcribed from its source. Bazel cannot
// run here, so these tables are what stands for the rules: an attribute,
// type or generated target a rule gains or loses in a new version must be
// changed here when MODULE.bazel's pin moves (the comment on each says
// where it was read).
//
// A macro of the rules also declares targets of its own (rules_oci's
// NAME.digest, tar.bzl's NAME_mtree): `generate` lists them, so labels may
// name them and a clash of names is found.

// generated is a target a macro of the rules declares beside its rule.
type generated struct {
	kind, name string
	outs       []string
}

type rule struct {
	kind   string
	source string // where the attributes were read
	attrs  map[string]attr
	// generate returns the macro's extra targets for the call's arguments,
	// or problems that the macro's fail() or the rule's analysis reports.
	generate func(name string, args map[string]any) ([]generated, []string)
	// outputs are the files the rule itself declares (attr.output).
	outputs func(name string, args map[string]any) []string
}

// Attributes every rule has (Bazel's common-definitions#common-attributes;
// bazel_lib 3.7.1 lib/private/utils.bzl _COMMON_RULE_ATTRIBUTES lists the
// same). name, visibility, tags and testonly are read before configuration.
var commonAttrs = map[string]attr{
	"name":                   {kind: aString, mandatory: true, noSelect: true},
	"visibility":             {kind: aLabelList, noSelect: true},
	"tags":                   {kind: aStringList, noSelect: true},
	"testonly":               {kind: aBool, noSelect: true},
	"compatible_with":        {kind: aLabelList, noSelect: true},
	"restricted_to":          {kind: aLabelList, noSelect: true},
	"deprecation":            {kind: aString},
	"distribs":               {kind: aStringList},
	"exec_compatible_with":   {kind: aLabelList, noSelect: true},
	"exec_properties":        {kind: aStringDict},
	"features":               {kind: aStringList},
	"target_compatible_with": {kind: aLabelList},
	"toolchains":             {kind: aLabelList},
	"package_metadata":       {kind: aLabelList},
}

// Attributes of every test rule (common-attributes-tests;
// _COMMON_TEST_RULE_ATTRIBUTES), and of every executable rule
// (common-attributes-binaries; _COMMON_BINARY_RULE_ATTRIBUTES).
var (
	testAttrs = map[string]attr{
		"args":        {kind: aStringList},
		"env":         {kind: aStringDict},
		"env_inherit": {kind: aStringList},
		"size":        {kind: aString, noSelect: true, values: []any{"small", "medium", "large", "enormous"}},
		"timeout":     {kind: aString, noSelect: true, values: []any{"short", "moderate", "long", "eternal"}},
		"flaky":       {kind: aBool, noSelect: true},
		"shard_count": {kind: aInt, noSelect: true},
		"local":       {kind: aBool, noSelect: true},
	}
	binaryAttrs = map[string]attr{
		"args":            {kind: aStringList},
		"env":             {kind: aStringDict},
		"output_licenses": {kind: aStringList},
	}
)

func with(groups ...map[string]attr) map[string]attr {
	all := map[string]attr{}
	for _, g := range groups {
		for k, v := range g {
			all[k] = v
		}
	}
	return all
}

// rules are the rules and macros, by the .bzl file that exports them and
// the name it exports. The native ones are in nativeRules.
var rules = map[string]map[string]*rule{
	"@rules_oci//oci:defs.bzl": {
		"oci_image":       ociImage,
		"oci_image_index": ociImageIndex,
		"oci_load":        ociLoad,
		"oci_push":        ociPush,
	},
	"@tar.bzl//:tar.bzl":                   {"tar": tarRule},
	"@bazel_lib//lib:expand_template.bzl":  {"expand_template": expandTemplate},
	"@bazel_lib//lib:transitions.bzl":      {"platform_transition_filegroup": platformTransitionFilegroup},
	"@container_structure_test//:defs.bzl": {"container_structure_test": containerStructureTest},
	"@rules_shell//shell:sh_binary.bzl":    {"sh_binary": shBinary},
}

// ociImage: rules_oci v2.3.0 (5dfb0ea5ee9d), oci/defs.bzl `oci_image` (the
// macro: labels, annotations and env as a dict or a label; cmd, entrypoint,
// exposed_ports and volumes as a list or a label) and
// oci/private/image.bzl `_attrs` (the rule's other attributes).
var ociImage = &rule{
	kind:   "oci_image",
	source: "rules_oci v2.3.0 oci/defs.bzl oci_image, oci/private/image.bzl _attrs",
	attrs: with(commonAttrs, map[string]attr{
		"base":          {kind: aLabel},
		"created":       {kind: aLabel},
		"tars":          {kind: aLabelList},
		"entrypoint":    {kind: aLabelOrStringList},
		"cmd":           {kind: aLabelOrStringList},
		"env":           {kind: aLabelOrStringDict},
		"user":          {kind: aString},
		"workdir":       {kind: aString},
		"exposed_ports": {kind: aLabelOrStringList},
		"volumes":       {kind: aLabelOrStringList},
		"os":            {kind: aString},
		"architecture":  {kind: aString},
		"variant":       {kind: aString},
		"labels":        {kind: aLabelOrStringDict},
		"annotations":   {kind: aLabelOrStringDict},
	}),
	generate: func(name string, args map[string]any) ([]generated, []string) {
		var gen []generated
		var problems []string
		// The macro writes each inline value into a file (write_file).
		for _, w := range []struct{ attr, target, out string }{
			{"annotations", "_write_annotations", ".annotations.txt"},
			{"labels", "_write_labels", ".labels.txt"},
			{"env", "_write_env", ".env.txt"},
			{"cmd", "_write_cmd", ".cmd.txt"},
			{"entrypoint", "_write_entrypoint", ".entrypoint.txt"},
			{"exposed_ports", "_write_exposed_ports", ".exposed_ports.txt"},
			{"volumes", "_write_volumes", ".volumes.txt"},
		} {
			switch v := args[w.attr].(type) {
			case map[string]any:
				gen = append(gen, generated{"write_file", name + w.target, []string{name + w.out}})
			case []any:
				gen = append(gen, generated{"write_file", name + w.target, []string{name + w.out}})
				// image.sh splits the file on ",": an empty list becomes
				// one port (or volume) named "\n" in the image config.
				if len(v) == 0 && (w.attr == "exposed_ports" || w.attr == "volumes") {
					problems = append(problems, w.attr+" is an empty list, which rules_oci writes into the image as one empty entry (oci/private/image.sh); leave it out instead")
				}
			}
		}
		// _oci_image_impl: a base, or else os and architecture.
		_, hasBase := args["base"]
		_, hasOS := args["os"]
		_, hasArch := args["architecture"]
		_, hasVariant := args["variant"]
		switch {
		case !hasBase && (!hasOS || !hasArch):
			problems = append(problems, "'os' and 'architecture' are mandatory when 'base' is unspecified (rules_oci's analysis fails)")
		case hasBase && (hasOS || hasArch || hasVariant):
			problems = append(problems, "'os', 'architecture' and 'variant' come from the image provided by 'base' and cannot be overridden (rules_oci's analysis fails)")
		}
		return append(gen, digestTargets(name)...), problems
	},
}

// digestTargets are what rules_oci v2.3.0's `_digest` (oci/defs.bzl)
// declares for an image or index: NAME.digest and its helpers.
func digestTargets(name string) []generated {
	return []generated{
		{"directory_path", name + "_index_json", nil},
		{"copy_file", name + "_index_json_cp", []string{name + "_index.json"}},
		{"jq", name + ".digest", []string{name + ".json.sha256"}},
	}
}

// ociImageIndex: rules_oci v2.3.0, oci/defs.bzl `oci_image_index` and
// oci/private/image_index.bzl `_attrs`.
var ociImageIndex = &rule{
	kind:   "oci_image_index",
	source: "rules_oci v2.3.0 oci/defs.bzl oci_image_index, oci/private/image_index.bzl _attrs",
	attrs: with(commonAttrs, map[string]attr{
		"images":    {kind: aLabelList, mandatory: true},
		"platforms": {kind: aLabelList},
	}),
	generate: func(name string, args map[string]any) ([]generated, []string) {
		var problems []string
		// image_index.bzl: "If specified, only one image can be specified in the images attribute."
		if p, ok := args["platforms"].([]any); ok && len(p) > 0 {
			if imgs, ok := args["images"].([]any); ok && len(imgs) != 1 {
				problems = append(problems, "with platforms, images must hold exactly one image")
			}
		}
		return digestTargets(name), problems
	},
}

// ociLoad: rules_oci v2.3.0, oci/defs.bzl `oci_load` (repo_tags as a list
// or a label) and oci/private/load.bzl `attrs`; an executable rule.
var ociLoad = &rule{
	kind:   "oci_load",
	source: "rules_oci v2.3.0 oci/defs.bzl oci_load, oci/private/load.bzl attrs",
	attrs: with(commonAttrs, binaryAttrs, map[string]attr{
		"format":    {kind: aString, values: []any{"docker", "oci"}},
		"image":     {kind: aLabel, mandatory: true},
		"repo_tags": {kind: aLabelOrStringList, mandatory: true},
		"loader":    {kind: aLabel},
	}),
	generate: writeTags("repo_tags"),
}

// ociPush: rules_oci v2.3.0, oci/defs.bzl `oci_push` (remote_tags as a
// list or a label) and oci/private/push.bzl `_attrs`; an executable rule.
var ociPush = &rule{
	kind:   "oci_push",
	source: "rules_oci v2.3.0 oci/defs.bzl oci_push, oci/private/push.bzl _attrs",
	attrs: with(commonAttrs, binaryAttrs, map[string]attr{
		"image":           {kind: aLabel, mandatory: true},
		"repository":      {kind: aString},
		"repository_file": {kind: aLabel},
		"remote_tags":     {kind: aLabelOrStringList},
	}),
	generate: writeTags("remote_tags"),
}

// writeTags: oci_load and oci_push write a list of tags into NAME.tags.txt.
func writeTags(attr string) func(string, map[string]any) ([]generated, []string) {
	return func(name string, args map[string]any) ([]generated, []string) {
		if _, ok := args[attr].([]any); ok {
			return []generated{{"write_file", name + "_write_tags", []string{name + ".tags.txt"}}}, nil
		}
		return nil, nil
	}
}

// tarRule: tar.bzl's `tar` macro (tar/tar.bzl) and `_tar_attrs`
// (tar/private/tar.bzl), read at v0.10.5 (8dae43618053), the newest source
// that could be read here; MODULE.bazel pins 0.10.8, whose source was not
// available. The attributes used here (srcs, mtree as lines, compress) are
// in every 0.10 release read.
var tarRule = &rule{
	kind:   "tar",
	source: "tar.bzl v0.10.5 tar/tar.bzl tar, tar/private/tar.bzl _tar_attrs (pinned 0.10.8 not readable here)",
	attrs: with(commonAttrs, map[string]attr{
		"mtree":                 {kind: aMtree, expandsWith: []string{"srcs"}},
		"mutate":                {kind: aString, noSelect: true}, // a partial(), which the evaluator cannot represent
		"include_runfiles":      {kind: aBool, noSelect: true},
		"stamp":                 {kind: aInt, values: []any{int64(-1), int64(0), int64(1)}},
		"args":                  {kind: aStringList},
		"srcs":                  {kind: aLabelList},
		"mode":                  {kind: aString, values: []any{"create"}},
		"out":                   {kind: aOutput},
		"compress":              {kind: aString, values: []any{"", "bzip2", "compress", "gzip", "lrzip", "lz4", "lzma", "lzop", "xz", "zstd"}},
		"compressor":            {kind: aLabel},
		"compressor_args":       {kind: aString},
		"compute_unused_inputs": {kind: aInt, values: []any{int64(-1), int64(0), int64(1)}},
	}),
	generate: func(name string, args map[string]any) ([]generated, []string) {
		mtree, given := args["mtree"]
		auto := !given || mtree == "auto"
		var problems []string
		if _, ok := args["mutate"]; ok && !auto {
			problems = append(problems, "mutate is only supported when mtree is 'auto' (tar.bzl's fail())")
		}
		if _, ok := args["include_runfiles"]; ok && !auto {
			problems = append(problems, "include_runfiles is only supported when mtree is 'auto' (tar.bzl's fail())")
		}
		switch {
		case auto:
			return []generated{{"mtree_spec", name + "_mtree", []string{name + "_mtree.txt"}}}, problems
		case isList(mtree):
			// expand_template of bazel_lib, whose list template is a write_file.
			return []generated{
				{"expand_template", name + "_mtree", []string{name + "_mtree.txt"}},
				{"write_file", name + "_mtree_tmpl", []string{name + "_mtree_tmpl.txt"}},
			}, problems
		}
		return nil, problems
	},
	outputs: outAttr,
}

func isList(v any) bool { _, ok := v.([]any); return ok }

func outAttr(_ string, args map[string]any) []string {
	if out, ok := args["out"].(string); ok {
		return []string{out}
	}
	return nil
}

// expandTemplate: bazel_lib v3.7.1 (1307b79b73fe), lib/expand_template.bzl
// (the macro: template as a label or a list of lines) and
// lib/private/expand_template.bzl `expand_template_lib.attrs` with
// lib/stamping.bzl STAMP_ATTRS.
var expandTemplate = &rule{
	kind:   "expand_template",
	source: "bazel_lib v3.7.1 lib/expand_template.bzl, lib/private/expand_template.bzl, lib/stamping.bzl STAMP_ATTRS",
	attrs: with(commonAttrs, map[string]attr{
		"template":            {kind: aLabelOrStringList, mandatory: true},
		"data":                {kind: aLabelList},
		"is_executable":       {kind: aBool},
		"out":                 {kind: aOutput},
		"stamp_substitutions": {kind: aStringDict, expandsWith: []string{"data"}},
		"substitutions":       {kind: aStringDict, expandsWith: []string{"data"}},
		"stamp":               {kind: aInt, values: []any{int64(1), int64(0), int64(-1)}},
	}),
	generate: func(name string, args map[string]any) ([]generated, []string) {
		if isList(args["template"]) {
			return []generated{{"write_file", name + "_tmpl", []string{name + "_tmpl.txt"}}}, nil
		}
		return nil, nil
	},
	outputs: outAttr,
}

// platformTransitionFilegroup: bazel_lib v3.7.1, lib/transitions.bzl.
var platformTransitionFilegroup = &rule{
	kind:   "platform_transition_filegroup",
	source: "bazel_lib v3.7.1 lib/transitions.bzl platform_transition_filegroup",
	attrs: with(commonAttrs, map[string]attr{
		"target_platform": {kind: aLabel, mandatory: true},
		"srcs":            {kind: aLabelList, nonEmpty: true},
	}),
}

// containerStructureTest: container-structure-test, defs.bzl (a test rule)
// and bazel/container_structure_test.bzl `_attrs`, read at 63ee63e15fae
// (2025-11-14, after v1.22.0); MODULE.bazel pins 1.22.1 (2025-12-16). A
// later copy in the search index has the same four attributes.
var containerStructureTest = &rule{
	kind:   "container_structure_test",
	source: "container-structure-test 63ee63e (v1.22.0+) defs.bzl, bazel/container_structure_test.bzl _attrs",
	attrs: with(commonAttrs, testAttrs, map[string]attr{
		"image":    {kind: aLabel},
		"configs":  {kind: aLabelList, mandatory: true},
		"driver":   {kind: aString, values: []any{"docker", "tar", "host"}},
		"platform": {kind: aString},
	}),
}

// shBinary: rules_shell v0.8.0 (c02969a1822), shell/sh_binary.bzl and
// shell/private/sh_executable.bzl make_sh_executable_rule; an executable
// rule. Under Bazel 8 (the fallback of docs/bazel.md) sh_binary.bzl hands
// out the native rule instead, which lacks use_bash_launcher: it is left
// out here so nothing comes to depend on it.
var shBinary = &rule{
	kind:   "sh_binary",
	source: "rules_shell v0.8.0 shell/private/sh_executable.bzl make_sh_executable_rule",
	attrs: with(commonAttrs, binaryAttrs, map[string]attr{
		"srcs":        {kind: aLabelList},
		"data":        {kind: aLabelList},
		"deps":        {kind: aLabelList},
		"env":         {kind: aStringDict},
		"env_inherit": {kind: aStringList},
		"args":        {kind: aStringList, expandsWith: []string{"srcs", "data", "deps"}},
	}),
	generate: func(string, map[string]any) ([]generated, []string) { return nil, nil },
}

// nativeRules are Bazel's own rules that a BUILD file here may call, and
// the .bzl files through native (Bazel's Build Encyclopedia, "General
// rules"; both are still native in Bazel 9).
var nativeRules = map[string]*rule{
	"filegroup": {
		kind:   "filegroup",
		source: "Bazel, filegroup",
		attrs: with(commonAttrs, map[string]attr{
			"srcs":         {kind: aLabelList},
			"data":         {kind: aLabelList},
			"output_group": {kind: aString},
		}),
	},
	"test_suite": {
		kind:   "test_suite",
		source: "Bazel, test_suite",
		attrs: with(commonAttrs, map[string]attr{
			"tests": {kind: aLabelList, noSelect: true},
		}),
	},
}
