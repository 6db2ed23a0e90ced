using System.Text;
using System.Text.Json;
using Skiff.Images.Tests.Archive;
using Skiff.Images.Tests.Registry;
using static Skiff.Interop.Interop;

namespace Skiff.Cli.Tests.EndToEnd;

/// <summary>
/// A buildah with its own storage in a temporary directory (vfs: no mounts to leave behind) and no registries
/// configuration of the host, so that nothing is pulled from the internet or left in the host's storage.
/// </summary>
internal sealed class PrivateBuildah : IDisposable
{
    private readonly TempDir _directory = new();

    public PrivateBuildah() => File.WriteAllText(Path.Combine(_directory.Path, "registries.conf"), "unqualified-search-registries = []\n");

    public string Run(params string[] arguments)
        => ExternalTool.Run("buildah", [
            "--root", Path.Combine(_directory.Path, "root"), "--runroot", Path.Combine(_directory.Path, "run"),
            "--storage-driver", "vfs", "--registries-conf", Path.Combine(_directory.Path, "registries.conf"), .. arguments]);

    public void Dispose()
    {
        // vfs mounts nothing, but a build that failed halfway may leave a working container: buildah's rm forgets it.
        ExternalTool.Run("buildah", ["--root", Path.Combine(_directory.Path, "root"), "--runroot", Path.Combine(_directory.Path, "run"),
            "--storage-driver", "vfs", "rm", "--all"]);
        _directory.Dispose();
    }
}

/// <summary>
/// `skiff build` against `buildah bud` (Debian's, from the same Dockerfile and context, FROM the test's busybox image
/// loaded from `skiff save`): the final root filesystems match file for file and the configs field for field, and
/// podman runs skiff's image.
/// </summary>
public sealed partial class EngineCliTests
{
    /// <summary>
    /// What buildah's RUN leaves that is no file of the Dockerfile's: the mount points of the container it ran in
    /// (/dev, /proc, /sys, /run, and the files bound over /etc/hostname, /etc/hosts, /etc/resolv.conf, and
    /// /run/.containerenv), committed as empty directories and empty files when the image lacked them. Skiff leaves
    /// them out of the layer, as docker's init layer does. Each is ignored only while it is such an empty placeholder.
    /// </summary>
    private static readonly string[] BuildahPlaceholders = ["dev", "proc", "sys", "run", "run/.containerenv", "etc/hostname", "etc/hosts", "etc/resolv.conf"];

    /// <summary>
    /// buildah (imagebuilder) adds this to the Env of every image whose base has no PATH; BuildKit only to FROM
    /// scratch, and keeps a base image's Env as it is, as skiff does. The test's base image has none.
    /// </summary>
    private const string BuildahDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private static readonly string[] ComparedConfigFields = ["Entrypoint", "Cmd", "Env", "WorkingDir", "User", "ExposedPorts", "Labels", "Volumes", "StopSignal", "Healthcheck"];

    [Fact]
    public async Task SkiffBuildMakesTheRootfsAndConfigBuildahBudMakesAndPodmanRunsIt()
    {
        var context = BuildContextWith($$"""
            ARG BASE={{Image}}
            FROM ${BASE} AS builder
            ARG VERSION=1.0
            ENV OUT=/out
            RUN mkdir -p $OUT/lib/empty && echo "version $VERSION" > $OUT/version \
                && ln -s version $OUT/current && ln -s /out/version $OUT/absolute && ln -s missing $OUT/dangling \
                && echo linked > $OUT/lib/one && ln $OUT/lib/one $OUT/lib/two && chmod 0604 $OUT/version

            FROM ${BASE}
            ARG VERSION=1.0
            ARG UNUSED_IN_RUN=x
            ENV APP=/srv/app GREETING="hello world" VERSIONED=app-${VERSION} DEFAULTED=${MISSING:-fallback}
            LABEL org.example.version=$VERSION org.example.name="equivalence test"
            WORKDIR $APP/work/deep
            COPY --from=builder /out/ /opt/
            COPY --from=builder /out/version /single/
            COPY files/ /data/
            COPY --chown=65534:65534 files/ /owned/
            COPY --chown=nobody:nogroup --chmod=0750 tool.sh /usr/local/bin/
            COPY --chmod=0640 files/a.txt secret.txt
            COPY xattr.txt /xattr.txt
            RUN mkdir -p /replaced/old /doomed/inner && echo old > /replaced/old/file && echo gone > /doomed/inner/file \
                && mkdir /links && echo base > /links/a
            RUN rm /bin/cat /etc/group && rm -rf /doomed /replaced && mkdir -p /replaced/new /empty/nested \
                && echo new > /replaced/new/file \
                && ln /links/a /links/b && ln /links/a /links/c \
                && ln -s ../links/a /relative && ln -s /links/b /absolute \
                && chown 1234:5678 /data/b.txt && chown -h 42:43 /absolute && chmod 4755 /usr/local/bin/tool.sh \
                && chmod 0700 /empty && chmod 1777 /empty/nested && chmod 2755 /replaced \
                && echo "$GREETING in $PWD" > made.txt
            USER 1000:1000
            EXPOSE 80 8080/udp
            VOLUME ["/srv/data", "/srv/logs"]
            STOPSIGNAL SIGQUIT
            HEALTHCHECK --interval=30s --timeout=3s --retries=2 CMD ["true"]
            ENTRYPOINT ["/bin/sh", "-c"]
            CMD ["cat $APP/work/deep/made.txt /opt/current /data/a.txt && ls /replaced/new"]
            """,
            ("files/a.txt", "a\n"), ("files/b.txt", "b\n"), ("files/sub/c.txt", "c\n"),
            ("tool.sh", "#!/bin/sh\necho tool\n"), ("xattr.txt", "with an xattr\n"));
        Directory.CreateDirectory(Path.Combine(context, "files", "emptydir"));
        Libc.SetXattrNoFollow(Path.Combine(context, "xattr.txt"), "user.note", Encoding.UTF8.GetBytes("kept"));
        var (ours, oursArchive) = await BuildsAsBuildahDoes(context, "--build-arg", "VERSION=2.5");
        Assert.Equal(["links/a = links/b = links/c", "opt/lib/one = opt/lib/two"], ours.HardLinkGroups());
        Assert.Contains(ours.Lines([]), line => line.StartsWith("xattr.txt f 0644 0:0 ", StringComparison.Ordinal) && line.EndsWith(" user.note=kept", StringComparison.Ordinal));

        using var podman = new PrivatePodman();
        podman.Run("load", "-i", oursArchive);
        Assert.Equal("hello world in /srv/app/work/deep\nversion 2.5\na\nfile\n",
            // runc (podman's default, crun, fails here), limits this machine allows without CAP_SYS_RESOURCE, and no
            // health check (podman would schedule it through systemd, which this machine does not run).
            podman.Run("run", "--rm", "--runtime", "runc", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                "--no-healthcheck", "local/equivalent:1"));
    }

    [Fact]
    public async Task AStageFromScratchAnUnpackedArchiveAndStepsAsAnotherUserBuildAsWithBuildah()
    {
        var context = BuildContextWith($"""
            FROM scratch AS files
            COPY --chown=7:8 payload/ /payload/
            COPY payload/one.txt /payload/renamed.txt

            FROM {Image}
            USER nobody
            WORKDIR /home/nobody/work
            RUN echo made by $(id -u) > /tmp/mine.txt && ln -s /tmp/mine.txt /tmp/mine-link
            COPY --chown=nobody payload/one.txt ./
            USER root
            ADD archive.tar /unpacked/
            COPY --from=files /payload/ /from-scratch/
            RUN mkdir -p /tmp/keep/empty && chmod 0700 /tmp/keep && chown -R nobody /tmp/keep
            """, ("payload/one.txt", "one\n"), ("payload/deep/two.txt", "two\n"));
        string archived = Path.Combine(_temp.Path, "archived");
        Directory.CreateDirectory(Path.Combine(archived, "dir", "empty"));
        File.WriteAllText(Path.Combine(archived, "dir", "file"), "in the archive\n");
        File.CreateSymbolicLink(Path.Combine(archived, "dir", "relative"), "file");
        ExternalTool.Run("ln", Path.Combine(archived, "dir", "file"), Path.Combine(archived, "hard"));
        ExternalTool.Run("chown", "1:2", Path.Combine(archived, "hard"));
        ExternalTool.Run("tar", "-C", archived, "-cf", Path.Combine(context, "archive.tar"), ".");

        var (ours, _) = await BuildsAsBuildahDoes(context);
        Assert.Equal(["unpacked/dir/file = unpacked/hard"], ours.HardLinkGroups());
        Assert.Contains("tmp/mine.txt f 0644 65534:65534 ", string.Join('\n', ours.Lines([])));
    }

    /// <summary>
    /// Builds <paramref name="context"/> with buildah (in a storage of its own, the base image from `skiff save`) and
    /// with skiff, asserts the two images' root filesystems, hard-link groups and configs alike (but for what
    /// <see cref="BuildahPlaceholders"/> and <see cref="BuildahDefaultPath"/> say), and returns skiff's.
    /// </summary>
    private async Task<(ImageArchiveTree Tree, string Archive)> BuildsAsBuildahDoes(string context, params string[] buildArgs)
    {
        using var buildah = new PrivateBuildah();
        string baseArchive = Path.Combine(_temp.Path, "base.tar");
        await Ok("save", "--format", "docker-archive", "-o", baseArchive, Image);
        buildah.Run("pull", "docker-archive:" + baseArchive);
        // oci isolation (runc, as root without systemd) can have no network at all; chroot isolation only the host's.
        // The docker format keeps HEALTHCHECK, which OCI's image config has no field for; no identity label. Without
        // --layers, buildah's image is the base's layer and one layer of the build's changes (with the whiteouts of
        // what the build deleted from the base): with it, its diff leaves out a file of an earlier layer that only
        // gained hard links (its mtime unchanged), so the new links would be a group of their own in its image.
        buildah.Run(["bud", "--isolation", "oci", "--network", "none", "--pull-never", "--format", "docker", "--identity-label=false",
            .. buildArgs, "-t", "local/equivalent:1", context]);
        string theirsArchive = Path.Combine(_temp.Path, "buildah.tar");
        buildah.Run("push", "local/equivalent:1", "docker-archive:" + theirsArchive + ":local/equivalent:1");

        await Ok(["build", .. buildArgs, "-t", "local/equivalent:1", context]);
        string oursArchive = Path.Combine(_temp.Path, "skiff.tar");
        await Ok("save", "--format", "docker-archive", "-o", oursArchive, "local/equivalent:1");

        var theirs = ImageArchiveTree.Read(theirsArchive);
        var ours = ImageArchiveTree.Read(oursArchive);
        var placeholders = BuildahPlaceholders.Where(path => theirs.IsEmptyPlaceholder(path) && !ours.IsEmptyPlaceholder(path)).ToList();
        var (buildahLines, skiffLines) = (theirs.Lines(placeholders), ours.Lines([]));
        Assert.True(buildahLines.SequenceEqual(skiffLines), "only buildah's:\n" + string.Join('\n', buildahLines.Except(skiffLines))
            + "\nonly skiff's:\n" + string.Join('\n', skiffLines.Except(buildahLines)));
        Assert.Equal(theirs.HardLinkGroups(), ours.HardLinkGroups());
        foreach (string field in ComparedConfigFields)
        {
            string buildahField = ConfigField(theirs.Config, field).Replace($"\"{BuildahDefaultPath}\",", "", StringComparison.Ordinal)
                .Replace($"[\"{BuildahDefaultPath}\"]", "(none)", StringComparison.Ordinal);
            Assert.True(buildahField == ConfigField(ours.Config, field), $"{field}: buildah {buildahField}, skiff {ConfigField(ours.Config, field)}");
        }
        return (ours, oursArchive);
    }

    /// <summary>A config field as canonical JSON: object keys sorted, strings escaped alike; absent, null and empty mean the same to both tools.</summary>
    private static string ConfigField(JsonElement config, string name)
    {
        if (!config.TryGetProperty(name, out var value))
            return "(none)";
        string canonical = Canonical(value);
        return canonical is "null" or "[]" or "{}" or "\"\"" ? "(none)" : canonical;
    }

    private static string Canonical(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(",", value.EnumerateObject().OrderBy(property => property.Name, StringComparer.Ordinal)
            .Select(property => $"\"{JsonEncodedText.Encode(property.Name)}\":{Canonical(property.Value)}")) + "}",
        JsonValueKind.Array => "[" + string.Join(",", value.EnumerateArray().Select(Canonical)) + "]",
        // Go escapes "&" as \u0026 where .NET writes it as it is: strings compare by their decoded value.
        JsonValueKind.String => $"\"{JsonEncodedText.Encode(value.GetString()!)}\"",
        _ => value.GetRawText(),
    };
}
