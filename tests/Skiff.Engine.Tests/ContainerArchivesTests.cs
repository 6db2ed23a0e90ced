namespace Skiff.Engine.Tests;

/// <summary>docker cp's path rules that need no container: names, "/." sources and symlinks resolved within a root.</summary>
public sealed class ContainerArchivesTests
{
    [Theory]
    [InlineData("/etc/passwd", "passwd")]
    [InlineData("/etc/", "etc")]
    [InlineData("/etc/./", "etc")]
    [InlineData("/etc/ssl/..", "etc")]
    [InlineData("/", ".")]
    [InlineData("/..", ".")]
    public void Copies_are_named_after_the_last_component(string path, string name)
        => Assert.Equal(name, ContainerArchives.NameOf(path));

    [Theory]
    [InlineData("dir/.", true)]
    [InlineData(".", true)]
    [InlineData("dir/", false)]
    [InlineData("dir/.hidden", false)]
    [InlineData("dir", false)]
    public void A_source_ending_in_dot_means_the_directorys_contents(string path, bool contents)
        => Assert.Equal(contents, ContainerArchives.EndsWithDot(path));

    [Theory]
    [InlineData("/data/link", "target", "/data/target")]
    [InlineData("/data/link", "../etc/hosts", "/etc/hosts")]
    [InlineData("/data/link", "/srv/out", "/srv/out")]
    [InlineData("/data/link", "../../../../escape", "/escape")]
    [InlineData("/link", "/../../etc", "/etc")]
    public void Destination_symlinks_resolve_inside_the_root(string link, string destination, string resolved)
        => Assert.Equal(resolved, ContainerArchives.ResolveLink(link, destination));
}
