using Skiff.Engine;
using Skiff.Engine.Logging;
using Skiff.Engine.Monitor;

// skiff-engine-testhost IMAGES_DIR ROOTFS_DIR monitor MONITOR_ARGS...
if (args.Length < 3 || args[2] != "monitor")
{
    Console.Error.WriteLine("usage: Skiff.Engine.TestHost IMAGES_DIR ROOTFS_DIR monitor --root DIR --run-root DIR --runtime-root DIR ID");
    return 125;
}
return ContainerMonitor.Run(args[3..], _ => new DirectoryRootfsProvider(args[0], args[1]), new TextWriterLoggerProvider(Console.Error, prefix: "skiff monitor").ToFactory());
