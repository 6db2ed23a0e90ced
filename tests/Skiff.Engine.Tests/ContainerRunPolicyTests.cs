using System.Text;
using Skiff.Engine.Specs;
using Skiff.Oci;

namespace Skiff.Engine.Tests;

public sealed class ContainerRunPolicyTests
{
    private static readonly HostFacts Host = new()
    {
        CpuCount = 2,
        Capabilities = Capabilities.Names.Take(41).ToList(),
        BoundingSet = Capabilities.Names.Take(41).ToList(),
        RlimitHardMaximum = _ => ulong.MaxValue,
        LookupDevice = _ => null,
    };

    [Theory]
    [InlineData(PullPolicy.Missing, true, false)]
    [InlineData(PullPolicy.Missing, false, true)]
    [InlineData(PullPolicy.Always, true, true)]
    [InlineData(PullPolicy.Always, false, true)]
    [InlineData(PullPolicy.Never, true, false)]
    public void Pull_policies_pull_as_docker_does(PullPolicy policy, bool present, bool pulls)
        => Assert.Equal(pulls, ContainerRunPolicy.MustPull(policy, present, "busybox"));

    [Fact]
    public void Never_pulling_an_absent_image_is_not_found_and_names_the_image()
    {
        var error = Assert.Throws<EngineException>(() => ContainerRunPolicy.MustPull(PullPolicy.Never, false, "no/such:image"));
        Assert.Equal(ErrorKind.NotFound, error.Kind);
        Assert.Contains("no/such:image", error.Message);
        Assert.DoesNotContain("--", error.Message);
    }

    [Fact]
    public async Task Invalid_settings_are_refused_before_the_image_is_pulled()
    {
        string root = Directory.CreateTempSubdirectory("skiff-policy-").FullName;
        try
        {
            using var images = Images.Service.ImageService.Open(new Images.Service.ImageServiceOptions { Root = root });
            bool pulled = false;
            var request = new CreateContainerRequest
            {
                // Nothing listens on port 1: had the policy pulled first, the error would be the registry's.
                Image = "127.0.0.1:1/nothing:here",
                Pull = PullPolicy.Always,
                Options = new RunOptions { Healthcheck = new Oci.Image.HealthConfig { Test = ["CMD", "true"], Retries = -1 } },
            };
            var error = await Assert.ThrowsAsync<EngineException>(() =>
                new ContainerRunPolicy(images).ResolveAsync(request, _ => { pulled = true; return null; }));
            Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
            Assert.Contains("retry count", error.Message);
            Assert.False(pulled);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData(new string[0], false)]
    [InlineData(new[] { "no-new-privileges" }, true)]
    [InlineData(new[] { "no-new-privileges:true" }, true)]
    [InlineData(new[] { "no-new-privileges=true" }, true)]
    [InlineData(new[] { "no-new-privileges", "no-new-privileges:false" }, false)]
    [InlineData(new[] { "apparmor=unconfined", "label=disable", "no-new-privileges" }, true)]
    public void No_new_privileges_in_docker_spellings(string[] options, bool expected)
        => Assert.Equal(expected, ContainerRunPolicy.NoNewPrivileges(options));

    [Theory]
    [InlineData("seccomp=unconfined")]
    [InlineData("systempaths=unconfined")]
    [InlineData("no-new-privileges:maybe")]
    public void Unknown_security_options_are_invalid_and_name_no_flag(string option)
    {
        var error = Assert.Throws<EngineException>(() => ContainerRunPolicy.NoNewPrivileges([option]));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.StartsWith($"security option {option} is not supported", error.Message);
    }

    [Fact]
    public void The_default_filter_is_dockers_for_the_capabilities()
    {
        var plain = ContainerRunPolicy.SeccompProfile(new RunOptions(), SeccompChoice.Default, Host);
        var admin = ContainerRunPolicy.SeccompProfile(new RunOptions { CapAdd = ["SYS_ADMIN"] }, SeccompChoice.Default, Host);
        Assert.Equal("SCMP_ACT_ERRNO", plain!.DefaultAction);
        // docker's default profile allows mount and friends only to CAP_SYS_ADMIN.
        Assert.DoesNotContain(Allowed(plain), name => name == "mount");
        Assert.Contains(Allowed(admin!), name => name == "mount");
    }

    [Fact]
    public void Unconfined_and_privileged_containers_get_no_filter()
    {
        Assert.Null(ContainerRunPolicy.SeccompProfile(new RunOptions(), SeccompChoice.Unconfined, Host));
        Assert.Null(ContainerRunPolicy.SeccompProfile(new RunOptions { Privileged = true }, SeccompChoice.Default, Host));
        var profile = SeccompChoice.FromProfile(Encoding.UTF8.GetBytes("""{"defaultAction":"SCMP_ACT_ALLOW"}"""), "allow.json");
        Assert.Null(ContainerRunPolicy.SeccompProfile(new RunOptions { Privileged = true }, profile, Host));
    }

    [Fact]
    public void A_given_profile_is_resolved_and_a_bad_one_named()
    {
        var json = """{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}""";
        var filter = ContainerRunPolicy.SeccompProfile(new RunOptions(), SeccompChoice.FromProfile(Encoding.UTF8.GetBytes(json), "nomkdir.json"), Host);
        Assert.Equal("SCMP_ACT_ALLOW", filter!.DefaultAction);
        Assert.Contains(filter.Syscalls!, rule => rule.Action == "SCMP_ACT_ERRNO" && (rule.Names ?? []).Contains("mkdirat"));

        var error = Assert.ThrowsAny<SkiffException>(() =>
            ContainerRunPolicy.SeccompProfile(new RunOptions(), SeccompChoice.FromProfile(Encoding.UTF8.GetBytes("{not json"), "/etc/broken.json"), Host));
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("/etc/broken.json", error.Message);
    }

    private static IEnumerable<string> Allowed(LinuxSeccomp filter)
        => (filter.Syscalls ?? []).Where(rule => rule.Action == "SCMP_ACT_ALLOW").SelectMany(rule => rule.Names ?? []);
}
