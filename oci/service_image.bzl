"""The image of one Gantry service, and the targets that act on every image.

service_image(name, binary, ...) declares, for the go_binary `binary`:

    <name>_layer                 the binary at /usr/local/bin/<name>
    <name>_image                 the image on distroless static (Linux only)
    <name>_image_linux_amd64,
    <name>_image_linux_arm64     that image for each platform, whatever the host
    <name>_index                 the multi-arch index of both (what is pushed)
    <name>_load                  (run) the host CPU's image into Docker as `tag`
    <name>_push                  (run) the index to `repository`, then its tags
    <name>_structure_test        <name>.structure_test.yaml on the loaded image

all_service_images(services) declares //oci:load and //oci:push, which run
every service's load or push, //oci:structure_test (a test_suite of every
structure test) and //oci:digests (every index digest).

No Bazel has run these macros: tools/bazelspec evaluates them with the rules
they call replaced by recorders of the pinned rules' attributes, and
tools/repocheck holds what they declare to compose/compose.yaml and the
binaries (see docs/bazel.md).
"""

load("@bazel_lib//lib:expand_template.bzl", "expand_template")
load("@bazel_lib//lib:transitions.bzl", "platform_transition_filegroup")
load("@container_structure_test//:defs.bzl", "container_structure_test")
load("@rules_oci//oci:defs.bzl", "oci_image", "oci_image_index", "oci_load", "oci_push")
load("@rules_shell//shell:sh_binary.bzl", "sh_binary")
load("@tar.bzl", "tar")

# The layer's directories and file: root-owned, mode 0755, with a fixed mtime
# (2023-01-01) so the layer is reproducible.
_MTREE_ATTRS = "uid=0 gid=0 mode=0755 time=1672560000"

_PLATFORMS = ["linux_amd64", "linux_arm64"]

def service_image(
        name,
        binary,
        entrypoint,
        cmd,
        user,
        workdir,
        labels,
        tag,
        repository,
        exposed_ports = None):
    """The image of one service, its platforms, index, load, push and structure test.

    The runtime settings are arguments, written as literals in oci/BUILD.bazel:
    tools/ocispec reads them (evaluated) for the image tool that builds the
    same image without Bazel, and tools/repocheck holds them to compose.

    Args:
        name: the service; its binary goes to /usr/local/bin/<name>, and its
            structure test reads <name>.structure_test.yaml.
        binary: the label of the service's go_binary.
        entrypoint: the image's entrypoint: ["/usr/local/bin/<name>"].
        cmd: the image's default command (the entrypoint's arguments).
        user: the user the service runs as, "uid:gid".
        workdir: the working directory.
        labels: the OCI labels of the image config.
        tag: the repo tag :<name>_load gives the image in Docker, the default
            that compose/compose.yaml runs.
        repository: where :<name>_push pushes (`-- --repository` overrides it).
        exposed_ports: the ports the service listens on, such as ["8080/tcp"];
            None for a service that serves no port of its own.
    """
    path = "usr/local/bin/" + name
    if entrypoint != ["/" + path]:
        fail("service_image(name = %r): entrypoint must be [%r], where the layer puts the binary" % (name, "/" + path))

    # The mtree is written out instead of using tar.bzl's `mutate`, which
    # builds gawk from source (a C compiler).
    tar(
        name = name + "_layer",
        srcs = [binary],
        # Uncompressed in every compilation mode: tar.bzl gzips under -c opt
        # by default, which would change the layer's digest with the mode.
        compress = "",
        mtree = [
            "usr/local %s type=dir" % _MTREE_ATTRS,
            "usr/local/bin %s type=dir" % _MTREE_ATTRS,
            "%s %s type=file content=$(execpath %s)" % (path, _MTREE_ATTRS, binary),
        ],
    )

    # Manifest annotations naming the exact source of a release build.
    # Unstamped builds get constants, so they stay cacheable and their digests
    # reproducible; under --config=release they carry the values
    # tools/workspace_status.sh prints, which the binary embeds through x_defs.
    expand_template(
        name = name + "_annotations",
        out = name + "_annotations.txt",
        stamp_substitutions = {
            "revision=unknown": "revision={{STABLE_GIT_COMMIT}}",
            "version=dev": "version={{STABLE_VERSION}}",
        },
        template = [
            "org.opencontainers.image.revision=unknown",
            "org.opencontainers.image.version=dev",
        ],
    )

    oci_image(
        name = name + "_image",
        annotations = ":%s_annotations" % name,
        # @distroless_static selects the linux/amd64 or linux/arm64/v8 base by
        # the target CPU.
        base = "@distroless_static",
        cmd = cmd,
        entrypoint = entrypoint,
        # rules_oci writes a list, even an empty one, into the image's
        # ExposedPorts (oci/private/image.sh), so no ports means no attribute.
        exposed_ports = exposed_ports if exposed_ports else None,
        labels = labels,
        # Built for Linux only: on another host use the transitioned targets
        # (a macOS build of the image would hold a darwin binary).
        target_compatible_with = ["@platforms//os:linux"],
        tars = [":%s_layer" % name],
        user = user,
        workdir = workdir,
    )

    for platform in _PLATFORMS:
        platform_transition_filegroup(
            name = "%s_image_%s" % (name, platform),
            srcs = [":%s_image" % name],
            target_platform = "//platforms:" + platform,
        )

    oci_image_index(
        name = name + "_index",
        images = [":%s_image_%s" % (name, platform) for platform in _PLATFORMS],
    )

    # One single-arch image of the host's CPU (Docker without the containerd
    # image store cannot load an index), tagged as compose.yaml expects.
    oci_load(
        name = name + "_load",
        image = select(
            {
                "@platforms//cpu:arm64": ":%s_image_linux_arm64" % name,
                "@platforms//cpu:x86_64": ":%s_image_linux_amd64" % name,
            },
            no_match_error = "//oci:%s_load builds for amd64 and arm64 hosts only" % name,
        ),
        repo_tags = [tag],
    )

    # The Docker-format tarball of the load target, which the tar driver reads.
    native.filegroup(
        name = name + "_image_tarball",
        srcs = [":%s_load" % name],
        output_group = "tarball",
    )

    # File and metadata checks on the loaded image, without a Docker daemon.
    container_structure_test(
        name = name + "_structure_test",
        configs = [name + ".structure_test.yaml"],
        driver = "tar",
        image = ":%s_image_tarball" % name,
    )

    # Tags applied after the push by digest: "dev" for an unstamped build;
    # the commit and "latest" under --config=release.
    expand_template(
        name = name + "_remote_tags",
        out = name + "_remote_tags.txt",
        stamp_substitutions = {"dev": "{{STABLE_GIT_COMMIT}}\nlatest"},
        template = ["dev"],
    )

    # Uses the credentials of `docker login` (~/.docker/config.json).
    oci_push(
        name = name + "_push",
        image = ":%s_index" % name,
        remote_tags = ":%s_remote_tags" % name,
        repository = repository,
    )

# No name argument: the targets have the fixed names docs, compose/up and CI
# run (//oci:load, //oci:push, //oci:structure_test, //oci:digests).
# buildifier: disable=unnamed-macro
def all_service_images(services):
    """The targets that act on every service's image, one by one.

    :load and :push run each service's _load or _push target in turn, with
    the arguments given after `--` (`bazel run //oci:push -- --tag extra`);
    :structure_test runs every structure test; :digests are the digests of
    every index, which CI builds twice and compares.

    Args:
        services: the name of every service_image of the package.
    """
    for action in ["load", "push"]:
        targets = [":%s_%s" % (service, action) for service in services]
        sh_binary(
            name = action,
            srcs = ["run_each.sh"],
            # The runfiles paths of the targets, then "--": what follows it
            # on the command line goes to each of them.
            args = ["$(rlocationpath %s)" % target for target in targets] + ["--"],
            data = targets,
            deps = ["@rules_shell//shell/runfiles"],
        )

    native.test_suite(
        name = "structure_test",
        tests = [":%s_structure_test" % service for service in services],
    )

    native.filegroup(
        name = "digests",
        srcs = [":%s_index.digest" % service for service in services],
    )
