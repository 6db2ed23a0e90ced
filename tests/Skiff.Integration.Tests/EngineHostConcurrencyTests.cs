using System.Formats.Tar;
using Skiff.Engine;
using Skiff.Engine.Containers;
using Skiff.Engine.Specs;
using Skiff.Images.Registry;
using Skiff.Images.Service;
using Skiff.Images.Tests.Registry;
using Skiff.Interop;
using Libc = Skiff.Interop.Interop.Libc;

namespace Skiff.Integration.Tests;

/// <summary>
/// A front end that is not the CLI: one <see cref="EngineHost"/> shared by many requests at once, as the API service
/// and the CRI will share theirs. Every flow goes through the services alone: pull, create, start, exec, wait, remove.
/// </summary>
public sealed class EngineHostConcurrencyTests
{
    private const int Flows = 20;

    [ContainerFact]
    public async Task Twenty_flows_pull_create_start_exec_wait_and_remove_concurrently_on_one_host()
    {
        using var bundle = new TestBundle();
        using var registry = await RegistryProcess.StartAsync();
        // Two images, so that pulls of the same image and of different images overlap.
        string[] references = [$"{registry.Host}/test/busybox:one", $"{registry.Host}/test/busybox:two"];
        // The same bottom layer in both: concurrent pulls of different images share a blob and a snapshot.
        var rootfs = Tar(bundle.Rootfs);
        using (var pusher = new TestPusher(registry.BaseUri))
        {
            await pusher.PushImageAsync("test/busybox", "one", BusyboxImage(rootfs, 11));
            await pusher.PushImageAsync("test/busybox", "two", BusyboxImage(rootfs, 12));
        }
        var options = new EngineOptions
        {
            Root = Path.Combine(bundle.Directory, "engine"),
            RunRoot = Path.Combine(bundle.Directory, "run"),
            Runtime = Repo.Runtime,
            MonitorCommand = [Path.Combine(Repo.Root, "bin", "skiff"), "monitor"],
            CgroupParent = "/skiff-test",
            InitBinary = Path.Combine(Repo.Root, "bin", "skiff-init"),
        };
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
        using (var host = new EngineHost(options, configureImages: images => images with
        {
            Registries = new RegistriesConfig { InsecureRegistries = [registry.Host] },
            Credentials = new StaticCredentials(new Dictionary<string, RegistryCredential>()),
        }))
        {
            try
            {
                await Task.WhenAll(Enumerable.Range(0, Flows).Select(flow => Task.Run(async () =>
                {
                    var reference = references[flow % references.Length];
                    var image = (await host.Images.PullAsync(new PullRequest { Reference = reference })).Image;
                    Assert.Contains(reference, image.RepoTags);

                    var container = host.ContainerCreation.Create(new CreateRequest
                    {
                        Image = reference,
                        ImageInfo = new ContainerImage(image.Id, host.ImageStore.Config(image).Config),
                        // Runs until the exec below says it may end, so the exec finds it running.
                        Options = new RunOptions { Command = ["sh", "-c", "while [ ! -e /tmp/done ]; do sleep 0.05; done; exit $(cat /image)"] },
                        Name = $"flow-{flow}-{Guid.NewGuid():N}"[..20],
                    });
                    ids.Add(container.Id);
                    Assert.Null(host.Containers.Start(container.Id));

                    var output = Path.Combine(bundle.Directory, $"exec-{flow}.out");
                    using (var stdout = OpenForWriting(output))
                    using (var devNull = RuntimeClient.OpenDevNull())
                    {
                        int code = host.ContainerExec.Exec(container.Id,
                            new ExecRequest { Command = ["sh", "-c", $"echo flow {flow} on $(cat /image); touch /tmp/done"] },
                            new ExecStdio(devNull, stdout, devNull));
                        Assert.Equal(0, code);
                    }
                    int exitCode = 11 + flow % references.Length;
                    Assert.Equal($"flow {flow} on {exitCode}\n", File.ReadAllText(output));

                    Assert.Equal(exitCode, await host.Containers.WaitAsync(container.Id));
                    host.Containers.Remove(container.Id);
                })));

                Assert.Equal(Flows, ids.Count);
                Assert.Empty(host.ContainerQueries.List(all: true));
                foreach (var id in ids)
                    AssertGone(host, id);
                foreach (var image in host.Images.List())
                    Assert.Empty(host.ImageStore.Metadata.ContainersUsing(image.Id));
            }
            finally
            {
                foreach (var container in host.ContainerQueries.List(all: true))
                {
                    try
                    {
                        host.Containers.Remove(container.Id, force: true);
                    }
                    catch (Exception)
                    {
                        // keep removing the others; the assertions above say what went wrong
                    }
                }
                // The default network's bridge and rules stay on the host until pruned.
                host.Networks.Prune();
            }
        }
    }

    /// <summary>The busybox-static rootfs, and on top a layer with /image holding the code the container exits with.</summary>
    private static TestImage BusyboxImage(byte[] rootfsLayer, int exitCode)
    {
        var top = new MemoryStream();
        using (var writer = new TarWriter(top, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "image")
            {
                Mode = (UnixFileMode)0x1a4,
                DataStream = new MemoryStream(System.Text.Encoding.ASCII.GetBytes(exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            });
        }
        return TestImage.FromLayers([rootfsLayer, top.ToArray()]);
    }

    private static byte[] Tar(string directory)
    {
        var tar = new MemoryStream();
        TarFile.CreateFromDirectory(directory, tar, includeBaseDirectory: false);
        return tar.ToArray();
    }

    private static void AssertGone(EngineHost host, string id)
    {
        Assert.False(Directory.Exists(host.Options.ContainerDirectory(id)), "container directory left behind");
        Assert.False(Directory.Exists(Path.Combine(host.ImageStore.Root, "rootfs", id)), "rootfs mount point left behind");
        Assert.False(Directory.Exists(Path.Combine(host.Options.RuntimeRoot, id)), "runtime state left behind");
        Assert.Throws<Skiff.Storage.Snapshots.SnapshotException>(() => host.ImageStore.Snapshotter.GetMount(id));
        Assert.Empty(Leftovers.CgroupDirs(id));
        Assert.Empty(Leftovers.ProcessesOf(id));
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), line => line.Contains(id));
    }

    private static FileDescriptor OpenForWriting(string path)
        => FileDescriptor.Wrap(Libc.Open(path, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_CLOEXEC, 0x1a4), "open", path);
}
