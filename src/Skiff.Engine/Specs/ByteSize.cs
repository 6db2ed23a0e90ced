using System.Globalization;

namespace Skiff.Engine.Specs;

/// <summary>Sizes as docker takes them (memory 32m, shared memory 1g, tmpfs size=64m): binary multiples.</summary>
public static class ByteSize
{
    /// <summary>
    /// "1024", "512k", "64m", "1.5g", "2GiB", "1t" (case-insensitive; b, kb, kib all mean the same multiple,
    /// as in docker's units.RAMInBytes). <paramref name="what"/> names what is sized in the error ("memory limit").
    /// </summary>
    public static long Parse(string text, string what)
    {
        var value = text.Trim().ToLowerInvariant();
        int end = value.Length;
        if (value.EndsWith("ib", StringComparison.Ordinal)) end -= 2;
        else if (value.EndsWith('b')) end -= 1;
        long multiple = 1;
        if (end > 0)
        {
            multiple = value[end - 1] switch
            {
                'k' => 1L << 10,
                'm' => 1L << 20,
                'g' => 1L << 30,
                't' => 1L << 40,
                'p' => 1L << 50,
                _ => 1,
            };
            if (multiple != 1) end--;
        }
        var number = value[..end];
        if (number.Length == 0 || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid {what} \"{text}\": expected a size such as 512k, 64m or 1g");
        try
        {
            return checked((long)(amount * multiple));
        }
        catch (OverflowException)
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid {what} \"{text}\": too large");
        }
    }
}
