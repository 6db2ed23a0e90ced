namespace Skiff.Network;

/// <summary>A failure of a network operation, of a <see cref="ErrorKind"/>, with a message naming the network, address or port and what to do.</summary>
public sealed class NetworkException(ErrorKind kind, string message, Exception? inner = null) : SkiffException(kind, message, inner);
