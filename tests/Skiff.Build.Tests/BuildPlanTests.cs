using Skiff.Build.Dockerfile;

namespace Skiff.Build.Tests;

public class BuildPlanTests
{
    private static BuildPlan Plan(string dockerfile, string? target = null, Dictionary<string, string>? buildArgs = null)
        => BuildPlan.Create(DockerfileParser.Parse(dockerfile, "Dockerfile"), new BuildPlanOptions
        {
            BuildArgs = buildArgs ?? [],
            Target = target,
            TargetPlatform = "linux/arm64/v8",
            BuildPlatform = "linux/amd64",
        });

    private static string Error(string dockerfile, string? target = null)
        => Assert.Throws<BuildException>(() => Plan(dockerfile, target)).Message;

    private const string MultiStage = """
        ARG GO=1.22
        ARG UNUSED_GLOBAL
        FROM --platform=$BUILDPLATFORM golang:$GO AS build
        ARG TARGETARCH
        RUN --mount=type=cache,target=/c,from=cachesrc true
        FROM alpine AS cachesrc
        FROM alpine:3 AS docs
        FROM build AS test
        FROM scratch AS final
        ENV SRC=build
        COPY --from=$SRC /out /
        COPY --from=busybox:1 /bin/sh /sh
        COPY --from=1 /x /y
        """;

    [Fact]
    public void OnlyTheStagesTheTargetNeedsInDependencyOrderAndWaves()
    {
        var plan = Plan(MultiStage);
        Assert.Equal(["cachesrc", "build", "final"], plan.Stages.Select(stage => stage.Stage.Name));
        Assert.Equal("final", plan.Target.Stage.Name);
        Assert.Equal([["cachesrc"], ["build"], ["final"]], plan.Waves.Select(wave => wave.Select(stage => stage.Stage.Name!).ToArray()));
        var build = plan.Stages[1];
        Assert.Equal(("golang:1.22", (int?)null, "linux/amd64"), (build.BaseImage, build.BaseStage, build.Platform));
        Assert.Equal([new StageDependency(1, 5)], build.Dependencies);
        var final = plan.Target;
        Assert.Equal([new StageDependency(0, 11), new StageDependency(1, 13)], final.Dependencies);
        Assert.Equal(["busybox:1"], final.ExternalImages);
        Assert.Equal("scratch", final.BaseImage);

        var test = Plan(MultiStage, target: "TEST");
        Assert.Equal(["cachesrc", "build", "test"], test.Stages.Select(stage => stage.Stage.Name));
        Assert.Equal(0, test.Target.BaseStage);
        Assert.Equal("build", test.Target.BaseImage);
    }

    [Fact]
    public void IndependentStagesShareAWave()
    {
        var plan = Plan("FROM a AS one\nFROM b AS two\nFROM c AS three\nCOPY --from=two / /\nFROM scratch\nCOPY --from=one / /\nCOPY --from=three / /");
        Assert.Equal([["one", "two"], ["three"], [null]], plan.Waves.Select(wave => wave.Select(stage => stage.Stage.Name).ToArray()));
    }

    [Fact]
    public void GlobalArgsOnlyInFromAndRedeclaredInStages()
    {
        var plan = Plan("ARG V=1\nARG IMG=alpine:${V}\nFROM $IMG\nARG V\nARG W=${V}-x\nARG TARGETVARIANT\nRUN --mount=type=cache,target=/c,id=$V$W$TARGETVARIANT true",
            buildArgs: new() { ["V"] = "2", ["NOBODY"] = "x", ["HTTP_PROXY"] = "http://proxy:3128" });
        Assert.Equal("alpine:2", plan.Target.BaseImage);
        Assert.Equal("2", plan.GlobalArgs["V"]);
        Assert.Equal("arm64", plan.GlobalArgs["TARGETARCH"]);
        Assert.Equal(("linux/arm64/v8", "linux", "arm64", "v8"), (plan.PlatformArgs["TARGETPLATFORM"], plan.PlatformArgs["TARGETOS"], plan.PlatformArgs["TARGETARCH"], plan.PlatformArgs["TARGETVARIANT"]));
        Assert.Equal(("linux/amd64", "linux", "amd64", ""), (plan.PlatformArgs["BUILDPLATFORM"], plan.PlatformArgs["BUILDOS"], plan.PlatformArgs["BUILDARCH"], plan.PlatformArgs["BUILDVARIANT"]));
        Assert.Equal(["NOBODY"], plan.UnusedBuildArgs);
        Assert.Equal(new Dictionary<string, string> { ["HTTP_PROXY"] = "http://proxy:3128" }, plan.ProxyArgs);

        var scope = new Dictionary<string, string> { ["V"] = "3" };
        Assert.Equal("3-x", plan.ResolveArg(new ArgDeclaration("W", "${V}-x"), scope));
        Assert.Equal("2", plan.ResolveArg(new ArgDeclaration("V", "9"), scope));
        Assert.Equal("alpine:2", plan.ResolveArg(new ArgDeclaration("IMG", null), scope));
        Assert.Null(plan.ResolveArg(new ArgDeclaration("NEVER", null), scope));
    }

    [Fact]
    public void ABuildArgIsUsedOnlyWhenANeededStageDeclaresIt()
    {
        var dockerfile = "ARG BASE=alpine\nARG GLOBAL_ONLY\nFROM $BASE AS a\nARG IN_A\nFROM scratch AS b\nARG IN_B";
        Assert.Equal(["BASE", "GLOBAL_ONLY", "IN_A"], Plan(dockerfile, buildArgs: new() { ["BASE"] = "x", ["IN_A"] = "1", ["IN_B"] = "2", ["GLOBAL_ONLY"] = "3" }).UnusedBuildArgs);
        Assert.Equal(["GLOBAL_ONLY", "IN_B"], Plan(dockerfile, target: "a", buildArgs: new() { ["BASE"] = "x", ["IN_A"] = "1", ["IN_B"] = "2", ["GLOBAL_ONLY"] = "3" }).UnusedBuildArgs);
    }

    [Fact]
    public void EnvOverridesArgAndIsInheritedFromAStage()
    {
        var plan = Plan("FROM a AS base\nENV FROM_STAGE=one\nFROM base\nARG FROM_STAGE=ignored\nCOPY --from=$FROM_STAGE / /");
        Assert.Equal(["one"], plan.Target.ExternalImages);
    }

    [Theory]
    [InlineData("FROM a AS x\nCOPY --from=y / /\nFROM b AS y\nCOPY --from=x / /", null, "Dockerfile:2: the stages depend on each other in a cycle (\"y\" -> \"x\" -> \"y\"): a stage cannot use itself or a stage that uses it")]
    [InlineData("FROM a AS x\nCOPY --from=x / /", null, "Dockerfile:2: the stages depend on each other in a cycle (\"x\" -> \"x\"): a stage cannot use itself or a stage that uses it")]
    [InlineData("FROM a\nRUN --mount=from=0,target=/x true", null, "Dockerfile:2: the stages depend on each other in a cycle (stage 0 -> stage 0): a stage cannot use itself or a stage that uses it")]
    [InlineData("FROM a AS x\nFROM b AS y", "z", "Dockerfile: there is no build stage named \"z\" for --target: the stages are named x, y")]
    [InlineData("FROM a\nFROM b", "z", "Dockerfile: there is no build stage named \"z\" for --target: no stage has a name (FROM IMAGE AS NAME)")]
    [InlineData("FROM a\nCOPY --from=3 / /", null, "Dockerfile:2: COPY --from=3 names no stage: the stages are numbered 0 to 0")]
    [InlineData("FROM a\nCOPY --from=$NOTHING / /", null, "Dockerfile:2: COPY --from=$NOTHING is empty after substitution: name a stage or an image")]
    [InlineData("ARG X\nFROM $X", null, "Dockerfile:2: FROM $X names no image after substitution: give the ARG it uses a value (--build-arg or a default)")]
    [InlineData("FROM ${X:?needs_a_base}", null, "Dockerfile:1: FROM: X: needs_a_base")]
    [InlineData("FROM a\nRUN --mount=type=nope,target=/x true", null, "Dockerfile:2: RUN --mount=type=nope,target=/x: the mount type \"nope\" is not one of bind, cache, tmpfs, secret, ssh")]
    [InlineData("FROM a\nENV A=${", null, "Dockerfile:2: ENV: syntax error: missing '}'")]
    public void Errors(string dockerfile, string? target, string message) => Assert.Equal(message, Error(dockerfile, target));

    [Fact]
    public void AnErrorInAStageTheTargetDoesNotNeedIsNotReported()
    {
        var plan = Plan("FROM a AS broken\nCOPY --from=99 / /\nFROM b AS good", target: "good");
        Assert.Equal(["good"], plan.Stages.Select(stage => stage.Stage.Name));
    }

    [Fact]
    public void ABadPlatformIsRefused()
        => Assert.Equal("the platform \"linux\" is not of the form os/arch[/variant], such as linux/amd64",
            Assert.Throws<BuildException>(() => BuildPlan.Create(DockerfileParser.Parse("FROM a", "Dockerfile"),
                new BuildPlanOptions { TargetPlatform = "linux", BuildPlatform = "linux/amd64" })).Message);
}
