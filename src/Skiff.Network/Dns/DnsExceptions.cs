namespace Skiff.Network.Dns;

/// <summary>
/// The one exception <see cref="DnsMessage.Parse"/> raises: the bytes are not a DNS message this reader accepts
/// (truncated, a label or name too long, a compression pointer that does not point strictly backwards).
/// </summary>
public sealed class DnsFormatException(string message) : SkiffException(ErrorKind.InvalidArgument, message);

/// <summary>The records (<see cref="DnsRecordsFile"/>) are not valid, or the resolver's process cannot be started.</summary>
public sealed class DnsException(ErrorKind kind, string message, Exception? inner = null) : SkiffException(kind, message, inner);
