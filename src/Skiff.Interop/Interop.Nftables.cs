using System.Runtime.InteropServices;

namespace Skiff.Interop;

public static unsafe partial class Interop
{
    /// <summary>
    /// libnftables (Debian's libnftables1): the nft command language parsed and sent as one nf_tables netlink batch,
    /// so a set of commands applies atomically or not at all, and errors come back in the library's own words. Used
    /// through <see cref="NftablesContext"/>; the text API rather than JSON because the commands are written by
    /// Skiff's firewall policy and read best as nft's own syntax.
    /// </summary>
    public static partial class Nftables
    {
        public const string Lib = "libnftables.so.1";

        public const uint NFT_CTX_DEFAULT = 0;

        // enum nft_output_flags (nftables/libnftables.h)
        public const uint NFT_CTX_OUTPUT_HANDLE = 1 << 3;
        public const uint NFT_CTX_OUTPUT_JSON = 1 << 4;

        [LibraryImport(Lib, EntryPoint = "nft_ctx_new")]
        public static partial NftablesHandle CtxNew(uint flags);

        [LibraryImport(Lib, EntryPoint = "nft_ctx_free")]
        public static partial void CtxFree(nint ctx);

        [LibraryImport(Lib, EntryPoint = "nft_ctx_buffer_output")]
        public static partial int CtxBufferOutput(NftablesHandle ctx);

        [LibraryImport(Lib, EntryPoint = "nft_ctx_buffer_error")]
        public static partial int CtxBufferError(NftablesHandle ctx);

        [LibraryImport(Lib, EntryPoint = "nft_ctx_get_output_buffer")]
        public static partial byte* CtxGetOutputBuffer(NftablesHandle ctx);

        [LibraryImport(Lib, EntryPoint = "nft_ctx_get_error_buffer")]
        public static partial byte* CtxGetErrorBuffer(NftablesHandle ctx);

        [LibraryImport(Lib, EntryPoint = "nft_ctx_output_set_flags")]
        public static partial void CtxOutputSetFlags(NftablesHandle ctx, uint flags);

        [LibraryImport(Lib, EntryPoint = "nft_run_cmd_from_buffer", StringMarshalling = StringMarshalling.Utf8)]
        public static partial int RunCmdFromBuffer(NftablesHandle ctx, string buffer);
    }
}

/// <summary>An owned libnftables context (struct nft_ctx *), freed with nft_ctx_free.</summary>
public sealed class NftablesHandle : SafeHandle
{
    public NftablesHandle() : base(invalidHandleValue: 0, ownsHandle: true) { }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        Interop.Nftables.CtxFree(handle);
        return true;
    }
}
