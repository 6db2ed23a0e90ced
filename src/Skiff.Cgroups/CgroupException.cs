namespace Skiff.Cgroups;

/// <summary>Any failure detecting, creating, configuring or removing cgroups.</summary>
public sealed class CgroupException : SkiffException
{
    /// <summary>Of kind Internal: a cgroup the host refuses.</summary>
    public CgroupException(string message) : base(ErrorKind.Internal, message) { }
    /// <summary>Of the inner error's kind when it has one, else Internal.</summary>
    public CgroupException(string message, Exception inner) : base(ErrorKinds.Of(inner) is var kind && kind != ErrorKind.Internal ? kind : ErrorKind.Internal, message, inner) { }
    public CgroupException(ErrorKind kind, string message, Exception? inner = null) : base(kind, message, inner) { }
}
