using System.Diagnostics;

namespace Skiff.Network.Tests;

/// <summary>
/// What CNI plugins may leave on the host when a test fails midway, taken away when disposed: the test's bridge, the
/// iptables rules and chains added meanwhile that name a CNI chain or the test's subnet (never any other), and the
/// iptables-nft tables the plugins made that hold no rule. Shared with Skiff.Cli.Tests' end-to-end CNI tests.
/// </summary>
public sealed class CniLeftovers(string bridge, string subnet, Action<string>? log = null) : IDisposable
{
    private readonly string[] _tablesBefore = NftTables();

    /// <summary>iptables-save's lines (see <see cref="IptablesLines"/>) when the test began.</summary>
    public List<string> IptablesBefore { get; } = IptablesLines();

    public void Dispose()
    {
        Run("ip", "link", "del", bridge);
        RemoveAddedIptables();
        RemoveAddedEmptyTables();
    }

    /// <summary>iptables-save's rules and chains, each line prefixed with its table, without counters and comments.</summary>
    public static List<string> IptablesLines()
    {
        var lines = new List<string>();
        string table = "";
        foreach (string line in Run("iptables-save").Out.Split('\n'))
        {
            if (line.StartsWith('*'))
                table = line;
            else if (line.StartsWith(':'))
                lines.Add($"{table} {line[..line.LastIndexOf(' ')]} ");
            else if (line.StartsWith("-A"))
                lines.Add($"{table} {line}");
        }
        return lines;
    }

    /// <summary>Takes away the rules and chains of the CNI plugins that this test's run added (never any other).</summary>
    private void RemoveAddedIptables()
    {
        var added = IptablesLines().Except(IptablesBefore).Where(line => line.Contains("CNI-") || line.Contains(subnet)).ToList();
        foreach (string line in added.Where(line => line.Contains(" -A ")))
        {
            string[] parts = line.Split(' ', 2);
            string rule = parts[1];
            Run("sh", "-c", $"iptables -t {parts[0][1..]} -D {rule[3..]}");
        }
        foreach (string line in added.Where(line => line.Contains(" :")))
        {
            string[] parts = line.Split(' ');
            Run("iptables", "-t", parts[0][1..], "-X", parts[1][1..]);
        }
        if (added.Count > 0)
            log?.Invoke("removed iptables leftovers:\n" + string.Join('\n', added));
    }

    private static string[] NftTables() => Run("nft", "list", "tables").Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// iptables-nft makes a table the first time a plugin looks at it (portmap looks at ip6 nat even without IPv6):
    /// such an iptables table that this test's run made and that holds no rule is removed, and never any other table.
    /// </summary>
    private void RemoveAddedEmptyTables()
    {
        foreach (string table in NftTables().Except(_tablesBefore))
        {
            string[] name = table.Split(' ');
            if (name.Length == 3 && name[1] is "ip" or "ip6" && name[2] is "nat" or "filter" && !Run("nft", "-j", "list", "table", name[1], name[2]).Out.Contains("\"rule\":"))
            {
                Run("nft", "delete", "table", name[1], name[2]);
                log?.Invoke($"removed the empty {table}");
            }
        }
    }

    public static (int Exit, string Out, string Err) Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr);
    }
}
