namespace Skiff.Storage.Metadata;

/// <summary>A metadata database this skiff cannot use (a newer schema), said in one line.</summary>
public sealed class MetadataException(ErrorKind kind, string message, Exception? inner = null) : SkiffException(kind, message, inner);
