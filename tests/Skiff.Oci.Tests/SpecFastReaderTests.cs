using System.Text;
using System.Text.Json;

namespace Skiff.Oci.Tests;

/// <summary>The fast config.json reader must give exactly what the generated reader gives, or nothing.</summary>
public sealed class SpecFastReaderTests
{
    private static string ViaGenerated(string json)
        => JsonSerializer.Serialize(JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json), OciJsonContext.Default.Spec)!, OciJsonContext.Default.Spec);

    private static string? ViaFast(string json)
        => SpecFastReader.TryRead(Encoding.UTF8.GetBytes(json)) is { } spec ? JsonSerializer.Serialize(spec, OciJsonContext.Default.Spec) : null;

    public static TheoryData<string> Documents()
    {
        var data = new TheoryData<string> { TestData.FullConfig };
        data.Add(OciJson.SerializeSpec(DefaultSpec.Default(cgroupNamespace: true)));
        var rootless = DefaultSpec.Default(cgroupNamespace: false);
        DefaultSpec.Rootless(rootless, 1000, 1000);
        data.Add(OciJson.SerializeSpec(rootless));
        return data;
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void ReadsEverythingTheGeneratedReaderReads(string json) => Assert.Equal(ViaGenerated(json), ViaFast(json));

    [Fact]
    public void SpecWriterWritesWhatTheGeneratedMetadataWrites()
    {
        // The writer runs the serialization-only fast path: a member it dropped or renamed would show here.
        var spec = JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(TestData.FullConfig), OciJsonContext.Default.Spec)!;
        Assert.Equal(JsonSerializer.Serialize(spec, OciJsonContext.Default.Spec), OciJson.SerializeSpec(spec, indented: false));
    }

    [Fact]
    public void FullConfigExercisesEverySectionOfTheModel()
    {
        // Guards the guard: if the sample lost a section, the round trip above would prove less.
        var json = ViaFast(TestData.FullConfig)!;
        foreach (var key in new[] { "\"hooks\"", "\"seccomp\"", "\"resources\"", "\"blockIO\"", "\"timeOffsets\"", "\"rlimits\"", "\"capabilities\"", "\"uidMappings\"", "\"devices\"" })
            Assert.Contains(key, json);
    }

    [Fact]
    public void PropertyNamesMatchCaseInsensitivelyAsInTheGeneratedReader()
    {
        const string json = """{"ociVersion":"1.2.0","PROCESS":{"Args":["sh"],"cwd":"/"},"root":{"path":"rootfs"}}""";
        Assert.Equal(ViaGenerated(json), ViaFast(json));
        Assert.Equal(["sh"], SpecFastReader.TryRead(Encoding.UTF8.GetBytes(json))!.Process!.Args);
    }

    [Theory]
    [InlineData("""{"process":{"args":"sh"}}""")]
    [InlineData("""{"process":{"user":null}}""")]
    [InlineData("""{"process":{"oomScoreAdj":"5"}}""")]
    [InlineData("""{"process":{"oomScoreAdj":1.5}}""")]
    [InlineData("""{"linux":{"uidMappings":[{"hostID":-1}]}}""")]
    [InlineData("""[1]""")]
    [InlineData("""{"ociVersion":"1.0.0",}""")]
    public void GivesUpWhereTheGeneratedReaderWouldComplain(string json)
        => Assert.Null(SpecFastReader.TryRead(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void ErrorsStillComeFromTheGeneratedReader()
    {
        var error = Assert.Throws<OciConfigException>(() => OciJson.ParseSpec("""{"process":{"args":"sh"}}"""));
        Assert.Contains("$.process.args", error.Message);
    }
}
