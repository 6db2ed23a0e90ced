namespace Skiff.Interop.Netlink;

/// <summary>
/// A netlink request the kernel refused, as <see cref="SyscallException"/> is a refused system call: it names the
/// request and the object ("RTM_NEWLINK skiff0: File exists"), adds the kernel's extended-ack text when it sent one,
/// and takes its <see cref="ErrorKind"/> from the errno (EEXIST AlreadyExists, ENODEV and ENOENT NotFound, ...).
/// </summary>
public sealed class NetlinkException : SkiffException
{
    public NetlinkException(string request, string? target, int errno, string? kernelMessage = null)
        : base(ErrorKinds.OfErrno(errno), Format(request, target, errno, kernelMessage))
    {
        Request = request;
        Target = target;
        Errno = errno;
        KernelMessage = kernelMessage;
    }

    /// <summary>The request's name, RTM_NEWLINK and the like.</summary>
    public string Request { get; }
    public string? Target { get; }
    public int Errno { get; }
    /// <summary>The kernel's own reason (NLMSGERR_ATTR_MSG), more precise than the errno when there is one.</summary>
    public string? KernelMessage { get; }

    private static string Format(string request, string? target, int errno, string? kernelMessage)
    {
        var what = target is null ? request : $"{request} {target}";
        var message = $"{what}: {SyscallException.Describe(errno)}";
        return kernelMessage is null ? message : $"{message} ({kernelMessage})";
    }
}
