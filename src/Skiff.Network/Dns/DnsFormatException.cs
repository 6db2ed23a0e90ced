namespace Skiff.Network.Dns;

/// <summary>
/// The one exception <see cref="DnsMessage.Parse"/> raises: the bytes are not a DNS message this reader accepts
/// (truncated, a label or name too long, a compression pointer that does not point strictly backwards).
/// </summary>
public sealed class DnsFormatException(string message) : SkiffException(ErrorKind.InvalidArgument, message);

/// <summary>The records file (<see cref="DnsRecordsFile"/>) or the records given to write are not valid.</summary>
public sealed class DnsRecordsException(ErrorKind kind, string message, Exception? inner = null) : SkiffException(kind, message, inner);
