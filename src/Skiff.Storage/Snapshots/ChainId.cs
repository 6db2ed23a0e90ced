using System.Text;
using Skiff.Oci.Image;

namespace Skiff.Storage.Snapshots;

/// <summary>
/// Layer chain IDs as the OCI image-spec defines them (config.md, "Layer ChainID"): the identity of a layer
/// together with every layer below it, so a snapshot keyed by it is the same filesystem whichever image uses it.
/// <code>
/// ChainID(L0) = DiffID(L0)
/// ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))
/// </code>
/// </summary>
public static class ChainId
{
    /// <summary>The chain ID of a layer whose parent chain is <paramref name="parent"/> (null for the bottom layer).</summary>
    public static Digest Next(Digest? parent, Digest diffId)
        => parent is { } p ? Digest.Compute(Encoding.UTF8.GetBytes($"{p} {diffId}")) : diffId;

    /// <summary>The chain ID of every prefix of <paramref name="diffIds"/> (bottom layer first), in the same order.</summary>
    public static IReadOnlyList<Digest> ForLayers(IEnumerable<Digest> diffIds)
    {
        var chain = new List<Digest>();
        Digest? parent = null;
        foreach (var diffId in diffIds)
        {
            var id = Next(parent, diffId);
            chain.Add(id);
            parent = id;
        }
        return chain;
    }

    /// <summary>The chain ID of the whole stack <paramref name="diffIds"/> (bottom layer first).</summary>
    public static Digest Of(IEnumerable<Digest> diffIds)
    {
        var chain = ForLayers(diffIds);
        return chain.Count > 0 ? chain[^1] : throw new ArgumentException("a chain needs at least one layer", nameof(diffIds));
    }
}
