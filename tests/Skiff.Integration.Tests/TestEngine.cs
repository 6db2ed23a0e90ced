using Skiff.Engine;
using Skiff.Engine.Containers;
using Skiff.Engine.Specs;
using Skiff.Oci.Image;

namespace Skiff.Integration.Tests;

/// <summary>
/// A container engine with its own root, runtime root and busybox "image" (TestBundle's rootfs) in a temp
/// directory; containers get cgroups under /skiff-test so <see cref="Leftovers"/> can check them. Dispose
/// force-removes every container the test left.
/// </summary>
public sealed class TestEngine : IDisposable
{
    public const string ImageId = "busybox-test";
    public static readonly string SkiffRuntime = Repo.Runtime;
    public const string Runc = "/usr/sbin/runc";

    private readonly TestBundle _bundle = new();
    private readonly string _images;

    public TestEngine(string runtime)
    {
        var images = _images = Path.Combine(_bundle.Directory, "images");
        System.IO.Directory.CreateDirectory(images);
        System.IO.Directory.Move(_bundle.Rootfs, Path.Combine(images, ImageId));
        RootfsDirectory = Path.Combine(_bundle.Directory, "rootfs");
        Options = new EngineOptions
        {
            Root = Path.Combine(_bundle.Directory, "engine"),
            RuntimeRoot = Path.Combine(_bundle.Directory, "run"),
            Runtime = runtime,
            MonitorCommand = [.. MonitorHost(), images, RootfsDirectory, "monitor"],
            CgroupParent = "/skiff-test",
            InitBinary = Path.Combine(Repo.Root, "bin", "skiff-init"),
        };
        Host = NewHost();
    }

    /// <summary>Another engine on the same store, as a second `skiff` command (another process) opens.</summary>
    public EngineHost NewHost() => new(Options, rootfs: new DirectoryRootfsProvider(_images, RootfsDirectory));

    public EngineOptions Options { get; }
    /// <summary>The engine the test drives: its services are shared by every thread of the test.</summary>
    public EngineHost Host { get; }
    public ContainerLifecycle Containers => Host.Containers;
    public ContainerCreation ContainerCreation => Host.ContainerCreation;
    public ContainerQueries ContainerQueries => Host.ContainerQueries;
    public ContainerExec ContainerExec => Host.ContainerExec;
    public VolumeService Volumes => Host.Volumes;
    public string RootfsDirectory { get; }
    /// <summary>The "image" every container's rootfs is copied from.</summary>
    public string ImageRootfs => Path.Combine(_images, ImageId);
    public string Directory => _bundle.Directory;

    /// <summary>The test host's apphost when the SDK copied it, else the dll through dotnet.</summary>
    private static string[] MonitorHost()
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, "Skiff.Engine.TestHost");
        return File.Exists(apphost) ? [apphost] : ["/usr/bin/dotnet", Path.Combine(AppContext.BaseDirectory, "Skiff.Engine.TestHost.dll")];
    }

    public ContainerRecord Create(string[] command, Func<CreateRequest, CreateRequest>? change = null, RunOptions? options = null)
    {
        var request = new CreateRequest
        {
            Image = "busybox",
            ImageInfo = new ContainerImage(ImageId, new ImageExecutionConfig { Cmd = ["sh"] }),
            Options = (options ?? new RunOptions()) with { Command = command },
            Name = ContainerHelpers.Unique("engine"),
        };
        return ContainerCreation.Create(change is null ? request : change(request));
    }

    /// <summary>Nothing of the container is left: row, directory, rootfs, runtime state, cgroup, processes, mounts.</summary>
    public void AssertGone(string id)
    {
        Assert.Null(ContainerQueries.List(all: true).FirstOrDefault(c => c.Id == id));
        Assert.False(System.IO.Directory.Exists(Options.ContainerDirectory(id)), "container directory left behind");
        Assert.False(System.IO.Directory.Exists(Path.Combine(RootfsDirectory, id)), "rootfs left behind");
        Assert.False(System.IO.Directory.Exists(Path.Combine(Options.RuntimeRoot, id)), "runtime state left behind");
        Assert.Empty(Leftovers.CgroupDirs(id));
        Assert.Empty(Leftovers.ProcessesOf(id));
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), line => line.Contains(id));
    }

    public static void WaitFor(Func<bool> condition, int timeoutMs = 30_000, string? what = null)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what ?? "the condition"}");
            Thread.Sleep(50);
        }
    }

    public string LogText(string id) => string.Concat(Logs(id, new LogsRequest()).Select(e => e.Text));

    public IEnumerable<LogEntry> Logs(string id, LogsRequest request) => ContainerQueries.Logs(id, request).ToBlockingEnumerable();

    public int Wait(string id) => Containers.WaitAsync(id).GetAwaiter().GetResult();

    public void Dispose()
    {
        try
        {
            foreach (var container in ContainerQueries.List(all: true))
            {
                try
                {
                    Containers.Remove(container.Id, force: true, volumes: true);
                }
                catch (Exception)
                {
                    // keep removing the others; the test's own assertions say what went wrong
                }
            }
            // The default network's bridge and rules stay on the host until pruned.
            Host.Networks.Prune();
        }
        finally
        {
            Host.Dispose();
            _bundle.Dispose();
        }
    }
}
