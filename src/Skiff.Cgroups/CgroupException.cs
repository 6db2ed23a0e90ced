namespace Skiff.Cgroups;

/// <summary>Any failure detecting, creating, configuring or removing cgroups.</summary>
public sealed class CgroupException : Exception
{
    public CgroupException(string message) : base(message) { }
    public CgroupException(string message, Exception inner) : base(message, inner) { }
}
