using Skiff.Engine;
using Skiff.Engine.Specs;

namespace Skiff.Engine.Tests;

public class UserResolverTests
{
    private const string Passwd = """
        root:x:0:0:root:/root:/bin/sh
        # a comment
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
        app:x:1000:1000:App:/home/app:/bin/sh
        nohome:x:1001:1001::
        """;

    private const string Group = """
        root:x:0:
        daemon:x:1:
        app:x:1000:
        wheel:x:10:app,daemon
        audio:x:29:app
        staff:x:50:
        """;

    [Fact]
    public void Empty_means_root()
        => Assert.Equal(new ResolvedUser(0, 0, [], "/root"), Normalize(UserResolver.Resolve(Passwd, Group, null)));

    [Fact]
    public void Name_gives_its_uid_gid_home_and_member_groups()
    {
        var user = UserResolver.Resolve(Passwd, Group, "app");
        Assert.Equal((1000u, 1000u, "/home/app"), (user.Uid, user.Gid, user.Home));
        Assert.Equal([10u, 29u], user.AdditionalGids);
    }

    [Fact]
    public void Group_can_be_named_or_numeric()
    {
        Assert.Equal(50u, UserResolver.Resolve(Passwd, Group, "app:staff").Gid);
        Assert.Equal(77u, UserResolver.Resolve(Passwd, Group, "app:77").Gid);
        Assert.Equal(50u, UserResolver.Resolve(Passwd, Group, "1000:staff").Gid);
    }

    [Fact]
    public void Numeric_uid_need_not_exist()
    {
        var user = UserResolver.Resolve(Passwd, Group, "4242");
        Assert.Equal((4242u, 0u, "/"), (user.Uid, user.Gid, user.Home));
        Assert.Empty(user.AdditionalGids);
        Assert.Equal(4242u, UserResolver.Resolve(null, null, "4242:4242").Gid);
    }

    [Fact]
    public void Known_uid_takes_the_entry()
        => Assert.Equal((1u, "/usr/sbin"), (UserResolver.Resolve(Passwd, Group, "1").Gid, UserResolver.Resolve(Passwd, Group, "1").Home));

    [Fact]
    public void Empty_home_is_root_directory()
        => Assert.Equal("/", UserResolver.Resolve(Passwd, Group, "nohome").Home);

    [Theory]
    [InlineData("nobody", "unable to find user nobody")]
    [InlineData("app:nogroup", "unable to find group nogroup")]
    [InlineData("app:", "invalid user")]
    [InlineData(":app", "invalid user")]
    public void Unknown_names_are_clear_errors(string spec, string message)
    {
        var error = Assert.Throws<EngineException>(() => UserResolver.Resolve(Passwd, Group, spec));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Files_are_read_inside_the_rootfs_even_through_an_absolute_symlink()
    {
        var rootfs = Directory.CreateTempSubdirectory("skiff-user-").FullName;
        var outside = Path.Combine(Path.GetTempPath(), $"skiff-outside-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
            Directory.CreateDirectory(Path.Combine(rootfs, "data"));
            File.WriteAllText(Path.Combine(rootfs, "data", "passwd"), "inside:x:321:321::/inside:/bin/sh\n");
            File.WriteAllText(outside, "inside:x:999:999::/host:/bin/sh\n");
            // An absolute symlink means the container's own file: /etc/passwd -> /data/passwd inside the root,
            // and a symlink to the host path must not be followed out of the root.
            File.CreateSymbolicLink(Path.Combine(rootfs, "etc", "passwd"), "/data/passwd");
            File.CreateSymbolicLink(Path.Combine(rootfs, "etc", "group"), outside);

            var user = UserResolver.Resolve(rootfs, "inside");
            Assert.Equal((321u, 321u, "/inside"), (user.Uid, user.Gid, user.Home));
            Assert.Empty(user.AdditionalGids);
        }
        finally
        {
            Directory.Delete(rootfs, recursive: true);
            File.Delete(outside);
        }
    }

    [Fact]
    public void Missing_files_allow_numeric_ids_only()
    {
        var rootfs = Directory.CreateTempSubdirectory("skiff-user-").FullName;
        try
        {
            Assert.Equal(5u, UserResolver.Resolve(rootfs, "5:5").Uid);
            Assert.Throws<EngineException>(() => UserResolver.Resolve(rootfs, "app"));
        }
        finally
        {
            Directory.Delete(rootfs, recursive: true);
        }
    }

    [Fact]
    public void Lines_too_long_to_be_entries_are_skipped_and_the_rest_still_resolves()
    {
        var rootfs = Directory.CreateTempSubdirectory("skiff-user-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
            File.WriteAllText(Path.Combine(rootfs, "etc", "passwd"), new string('x', 3 * JsonLines.MaximumLine) + "\n" + Passwd);
            File.WriteAllText(Path.Combine(rootfs, "etc", "group"), Group + "\n" + new string('y', 3 * JsonLines.MaximumLine));
            var user = UserResolver.Resolve(rootfs, "app");
            Assert.Equal(new ResolvedUser(1000, 1000, [], "/home/app"), Normalize(user));
            Assert.Equal([10u, 29u], user.AdditionalGids);
        }
        finally
        {
            Directory.Delete(rootfs, recursive: true);
        }
    }

    [Fact]
    public void More_supplementary_groups_than_the_kernel_takes_are_refused()
    {
        var groups = string.Concat(Enumerable.Range(1, 65537).Select(gid => $"g{gid}:x:{gid}:app\n"));
        // 65536 groups, one of them app's own (1000): the others are its supplementary groups.
        Assert.Equal(65535, UserResolver.Resolve(Passwd, groups[..groups.IndexOf("g65537", StringComparison.Ordinal)], "app").AdditionalGids.Count);
        Assert.Throws<EngineException>(() => UserResolver.Resolve(Passwd, groups, "app"));
    }

    private static ResolvedUser Normalize(ResolvedUser user) => user with { AdditionalGids = [] };
}
