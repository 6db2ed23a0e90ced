using System.Diagnostics;

namespace Skiff.Integration.Tests.Systemd;

/// <summary>
/// A real dbus-daemon on a unix socket in a temp directory, with a policy that allows everything, so the
/// tests' D-Bus traffic is checked by an independent implementation of the protocol. Dispose kills it.
/// </summary>
public sealed class PrivateBus : IDisposable
{
    private readonly Process _daemon;
    private readonly string _directory;

    public PrivateBus()
    {
        _directory = Directory.CreateTempSubdirectory("skiff-dbus-").FullName;
        var socket = Path.Combine(_directory, "bus");
        var config = Path.Combine(_directory, "bus.conf");
        File.WriteAllText(config, $"""
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <listen>unix:path={socket}</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow user="*"/>
                <allow own="*"/>
                <allow send_destination="*" eavesdrop="true"/>
                <allow receive_sender="*"/>
                <allow eavesdrop="true"/>
              </policy>
            </busconfig>
            """);
        var info = new ProcessStartInfo("dbus-daemon") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "--config-file=" + config, "--nofork", "--nopidfile", "--print-address" })
            info.ArgumentList.Add(arg);
        _daemon = Process.Start(info)!;
        try
        {
            // the address is printed once the socket listens
            Address = _daemon.StandardOutput.ReadLine()?.Trim()
                ?? throw new InvalidOperationException("dbus-daemon exited before printing its address");
            Assert.StartsWith("unix:path=" + socket, Address);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Address { get; }

    public void Dispose()
    {
        if (!_daemon.HasExited)
            _daemon.Kill();
        _daemon.WaitForExit();
        _daemon.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
