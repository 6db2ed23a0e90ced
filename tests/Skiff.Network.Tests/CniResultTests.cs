using System.Net;
using Skiff.Network.Cni;

namespace Skiff.Network.Tests;

public sealed class CniResultTests
{
    [Fact]
    public void A_1_0_result_is_read_whole()
    {
        var result = CniResult.Parse("""
            {
              "cniVersion": "1.0.0",
              "interfaces": [
                { "name": "skcni0", "mac": "aa:bb:cc:dd:ee:01" },
                { "name": "eth0", "mac": "aa:bb:cc:dd:ee:02", "mtu": 1400, "sandbox": "/run/netns/x" }
              ],
              "ips": [ { "address": "10.231.3.2/24", "gateway": "10.231.3.1", "interface": 1 } ],
              "routes": [ { "dst": "0.0.0.0/0", "gw": "10.231.3.1", "priority": 5 }, { "dst": "fd12::/64" } ],
              "dns": { "nameservers": ["10.231.3.1"], "domain": "example", "search": ["a", "b"], "options": ["ndots:2"] }
            }
            """);
        Assert.Equal("1.0.0", result.CniVersion);
        Assert.Equal(2, result.Interfaces.Count);
        Assert.Equal(new CniInterface("eth0", "aa:bb:cc:dd:ee:02", 1400, "/run/netns/x", null, null), result.Interfaces[1]);
        var ip = Assert.Single(result.Ips);
        Assert.Equal(new CniCidr(IPAddress.Parse("10.231.3.2"), 24), ip.Address);
        Assert.Equal("10.231.3.2/24", ip.Address.ToString());
        Assert.Equal(IPAddress.Parse("10.231.3.1"), ip.Gateway);
        Assert.Equal(1, ip.Interface);
        Assert.Equal(new CniRoute(new CniCidr(IPAddress.Any, 0), IPAddress.Parse("10.231.3.1"), null, null, 5, null, null), result.Routes[0]);
        Assert.Null(result.Routes[1].Gateway);
        Assert.Equal(["10.231.3.1"], result.Dns.Nameservers);
        Assert.Equal("example", result.Dns.Domain);
        Assert.Equal(["a", "b"], result.Dns.Search);
        Assert.Equal(["ndots:2"], result.Dns.Options);
    }

    [Theory]
    [InlineData("0.3.0")]
    [InlineData("0.3.1")]
    [InlineData("0.4.0")]
    public void A_0_3_or_0_4_result_converts_by_dropping_the_ip_version(string version)
    {
        var result = CniResult.Parse($$"""
            {
              "cniVersion": "{{version}}",
              "interfaces": [ { "name": "eth0", "sandbox": "/run/netns/x" } ],
              "ips": [ { "version": "4", "address": "10.1.0.5/16", "gateway": "10.1.0.1", "interface": 0 },
                       { "version": "6", "address": "fd12::5/64" } ],
              "routes": [ { "dst": "0.0.0.0/0" } ]
            }
            """);
        Assert.Equal(version, result.CniVersion);
        Assert.Equal(["10.1.0.5/16", "fd12::5/64"], result.Ips.Select(ip => ip.Address.ToString()));
        Assert.Equal(0, result.Ips[0].Interface);
        Assert.Null(result.Ips[1].Interface);
        Assert.Single(result.Routes);
        Assert.Same(CniDns.Empty, result.Dns);
    }

    [Fact]
    public void A_0_2_result_converts_ip4_and_ip6_with_their_routes()
    {
        var result = CniResult.Parse("""
            {
              "cniVersion": "0.2.0",
              "ip4": { "ip": "10.1.0.5/16", "gateway": "10.1.0.1", "routes": [ { "dst": "0.0.0.0/0" } ] },
              "ip6": { "ip": "fd12::5/64", "routes": [ { "dst": "::/0", "gw": "fd12::1" } ] },
              "dns": { "nameservers": ["10.1.0.1"] }
            }
            """);
        Assert.Empty(result.Interfaces);
        Assert.Equal(["10.1.0.5/16", "fd12::5/64"], result.Ips.Select(ip => ip.Address.ToString()));
        Assert.Equal(IPAddress.Parse("10.1.0.1"), result.Ips[0].Gateway);
        Assert.Equal(["0.0.0.0/0", "::/0"], result.Routes.Select(route => route.Destination.ToString()));
        Assert.Equal(IPAddress.Parse("fd12::1"), result.Routes[1].Gateway);
        Assert.Equal(["10.1.0.1"], result.Dns.Nameservers);
    }

    [Theory]
    [InlineData("""{ "cniVersion": "1.0.0", "ips": [ { "address": "10.1.0.5" } ] }""", "ips[0].address \"10.1.0.5\" is not an address in CIDR notation")]
    [InlineData("""{ "cniVersion": "1.0.0", "ips": [ { "address": "10.1.0.5/33" } ] }""", "not an address in CIDR notation")]
    [InlineData("""{ "cniVersion": "1.0.0", "ips": [ { "address": "10.1.0.5/24", "interface": 0 } ] }""", "not the index of one of its 0 interfaces")]
    [InlineData("""{ "cniVersion": "1.0.0", "ips": [ { "address": "10.1.0.5/24", "gateway": "x" } ] }""", "ips[0].gateway \"x\" is not an IP address")]
    [InlineData("""{ "cniVersion": "1.0.0", "interfaces": [ { "mac": "x" } ] }""", "interfaces[0] has no name")]
    [InlineData("""{ "cniVersion": "1.0.0", "routes": {} }""", "routes is not a list")]
    [InlineData("""{ "cniVersion": "1.0.0", "interfaces": [ { "name": "e", "mtu": -1 } ] }""", "interfaces[0].mtu is not a non-negative integer")]
    [InlineData("""{ "cniVersion": "7.0.0" }""", "cniVersion 7.0.0 is not a CNI version Skiff knows")]
    [InlineData("""{ "ips": [] }""", "no cniVersion")]
    [InlineData("""[1]""", "not a JSON object")]
    [InlineData("""{""", "The CNI result is invalid")]
    [InlineData("""{ "cniVersion": "1.0.0", "ips": [], "ips": [] }""", "Duplicate property 'ips'")]
    public void Invalid_results_are_refused_saying_what_is_wrong(string json, string what)
    {
        var error = Assert.Throws<CniException>(() => CniResult.Parse(json));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(what, error.Message);
        Assert.EndsWith(".", error.Message);
    }

    [Fact]
    public void Mutated_results_and_configurations_fail_only_with_a_CniException()
    {
        const string result = """{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","mtu":1500,"sandbox":"/x"}],"ips":[{"version":"4","address":"10.1.0.5/16","gateway":"10.1.0.1","interface":0}],"routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}],"dns":{"nameservers":["10.1.0.1"],"search":["a"]}}""";
        const string conflist = """{"cniVersion":"1.0.0","name":"n","disableCheck":false,"plugins":[{"type":"bridge","capabilities":{"portMappings":true},"ipam":{"type":"host-local"}}]}""";
        var random = new Random(13);
        const string alphabet = "{}[]\":,0123456789.-/aetrnu \\";
        for (int round = 0; round < 20000; round++)
        {
            char[] text = (round % 2 == 0 ? result : conflist).ToCharArray();
            for (int edits = random.Next(1, 4); edits > 0; edits--)
                text[random.Next(text.Length)] = alphabet[random.Next(alphabet.Length)];
            try
            {
                if (round % 2 == 0)
                    CniResult.Parse(new string(text));
                else
                    CniConfigList.Parse(new string(text));
            }
            catch (CniException)
            {
            }
        }
    }
}
