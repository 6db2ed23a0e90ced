using Skiff.Interop;

namespace Skiff.Engine.Containers;

/// <summary>Container names: docker's rules for given names and its adjective_surname style for generated ones.</summary>
public static class NameGenerator
{
    private static readonly string[] Adjectives =
    [
        "admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome", "beautiful", "blissful", "bold",
        "boring", "brave", "busy", "charming", "clever", "compassionate", "competent", "condescending", "confident", "cool",
        "cranky", "crazy", "dazzling", "determined", "distracted", "dreamy", "eager", "ecstatic", "elastic", "elated",
        "elegant", "eloquent", "epic", "exciting", "fervent", "festive", "flamboyant", "focused", "friendly", "frosty",
        "funny", "gallant", "gifted", "goofy", "gracious", "great", "happy", "hardcore", "heuristic", "hopeful",
        "hungry", "infallible", "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen", "kind", "laughing",
        "loving", "lucid", "magical", "modest", "musing", "mystifying", "naughty", "nervous", "nice", "nifty",
        "nostalgic", "objective", "optimistic", "peaceful", "pedantic", "pensive", "practical", "priceless", "quirky", "quizzical",
        "recursing", "relaxed", "reverent", "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic",
        "strange", "stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled", "upbeat", "vibrant",
        "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
    ];

    private static readonly string[] Surnames =
    [
        "agnesi", "albattani", "allen", "archimedes", "babbage", "banach", "bardeen", "bartik", "bell", "bhabha",
        "blackwell", "bohr", "booth", "borg", "bose", "brahmagupta", "brattain", "brown", "carson", "cerf",
        "chandrasekhar", "chaplygin", "chatelet", "cohen", "curie", "darwin", "davinci", "dijkstra", "dirac", "easley",
        "einstein", "elion", "engelbart", "euclid", "euler", "fermat", "fermi", "feynman", "franklin", "galileo",
        "gauss", "goldberg", "goldwasser", "goodall", "hamilton", "hawking", "heisenberg", "hermann", "hodgkin", "hopper",
        "hypatia", "jackson", "jang", "jennings", "johnson", "kalam", "kepler", "khorana", "knuth", "kowalevski",
        "lalande", "lamarr", "lamport", "leakey", "lederberg", "lewin", "liskov", "lovelace", "lumiere", "mayer",
        "mccarthy", "mclean", "meitner", "mendel", "mirzakhani", "montalcini", "moore", "morse", "napier", "nash",
        "newton", "nobel", "noether", "noyce", "pare", "pascal", "pasteur", "perlman", "pike", "poincare",
        "ptolemy", "raman", "ritchie", "rosalind", "sammet", "shamir", "shannon", "shaw", "sinoussi", "spence",
        "stonebraker", "swanson", "tesla", "thompson", "torvalds", "turing", "varahamihira", "villani", "wescoff", "wilbur",
        "wiles", "williams", "wing", "wozniak", "wright", "yalow", "yonath", "zhukovsky",
    ];

    /// <summary>A random adjective_surname; the caller retries on a clash.</summary>
    public static string Random()
    {
        var name = $"{Adjectives[SecureRandom.Below(Adjectives.Length)]}_{Surnames[SecureRandom.Below(Surnames.Length)]}";
        // docker's one exception: Wozniak is not boring.
        return name == "boring_wozniak" ? Random() : name;
    }

    /// <summary>docker's name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]* (a leading "/" as docker prints names is accepted).</summary>
    public static string Validate(string name)
    {
        var bare = name.StartsWith('/') ? name[1..] : name;
        if (bare.Length == 0 || !char.IsAsciiLetterOrDigit(bare[0]) || !bare.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid container name \"{name}\": only [a-zA-Z0-9][a-zA-Z0-9_.-]* is allowed");
        return bare;
    }

    /// <summary>A new container id: 64 hex digits, as docker's.</summary>
    public static string NewId() => Convert.ToHexStringLower(SecureRandom.Bytes(32));
}
