using System.Text.Json;
using Skiff.Cli;
using Skiff.Cli.Templates;

namespace Skiff.Cli.Tests;

/// <summary>
/// Go's text/template with docker's functions: each expectation is what Go (and docker, for its functions and
/// its documented examples on docs.docker.com "Format command and log output") prints for the same template and data.
/// </summary>
public class GoTemplateTests
{
    private const string Container = """
        {
          "Id": "4d8a2b0c5e3f",
          "Name": "/web",
          "State": { "Status": "exited", "Running": false, "ExitCode": 3, "Health": null },
          "Config": {
            "Labels": { "com.example.team": "red", "version": "1.2" },
            "Env": ["PATH=/usr/bin", "LANG=C"],
            "Cmd": ["sh", "-c", "exit 3"],
            "Volumes": null
          },
          "NetworkSettings": { "Networks": { "bridge": { "IPAddress": "172.17.0.2" } } },
          "Ratio": 0.25,
          "Big": 1000000.0,
          "Empty": [],
          "Count": 2
        }
        """;

    private static string Render(string template, string json = Container)
    {
        using var document = JsonDocument.Parse(json);
        return GoTemplate.Parse(template).Execute(document.RootElement);
    }

    private static string Error(string template, string json = Container)
        => Assert.Throws<TemplateException>(() => Render(template, json)).Message;

    [Theory]
    [InlineData("{{.State.ExitCode}}", "3")]
    [InlineData("{{.State.Running}}", "false")]
    [InlineData("{{.Name}}", "/web")]
    [InlineData("{{.name}}", "/web")]
    [InlineData("{{json .Config.Labels}}", """{"com.example.team":"red","version":"1.2"}""")]
    [InlineData("{{.Config.Labels}}", "map[com.example.team:red version:1.2]")]
    [InlineData("{{.Config.Env}}", "[PATH=/usr/bin LANG=C]")]
    [InlineData("{{.Config.Volumes}}", "<nil>")]
    [InlineData("{{.Config.Missing}}", "<no value>")]
    [InlineData("{{.Ratio}} {{.Big}} {{.Count}}", "0.25 1e+06 2")]
    [InlineData("{{(index .NetworkSettings.Networks \"bridge\").IPAddress}}", "172.17.0.2")]
    [InlineData("{{index .Config.Labels \"version\"}}", "1.2")]
    [InlineData("[{{index .Config.Labels \"absent\"}}]", "[]")]
    [InlineData("{{index .Config.Cmd 1}}", "-c")]
    [InlineData("{{.}}", "")]
    public void FieldsAndIndexOverTheJsonDocument(string template, string expected)
    {
        if (template == "{{.}}")
            Assert.StartsWith("map[Big:1e+06 Config:map[Cmd:[sh -c exit 3]", Render(template));
        else
            Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("a {{/* a comment */}}b", "a b")]
    [InlineData("a  {{- /* trimmed */ -}}  b", "ab")]
    [InlineData("x\n  {{- .Count -}}\n  y", "x2y")]
    [InlineData("{{-3}}", "-3")]
    [InlineData("{{\"quoted\\tstring\"}} {{`raw\\t`}} {{'a'}} {{0x1F}} {{1e3}} {{true}}", "quoted\tstring raw\\t 97 31 1000 true")]
    public void TextCommentsTrimMarkersAndLiterals(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{.Name | printf \"%q\"}}", "\"/web\"")]
    [InlineData("{{join .Config.Cmd \" \" | upper}}", "SH -C EXIT 3")]
    [InlineData("{{$x := .State.ExitCode}}{{$x}}", "3")]
    [InlineData("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2")]
    [InlineData("{{with .State}}{{$.Name}} {{.Status}}{{end}}", "/web exited")]
    [InlineData("{{with .Config.Missing}}yes{{else}}no{{end}}", "no")]
    [InlineData("{{with $s := .State.Status}}{{$s}}{{end}}", "exited")]
    [InlineData("{{with .Config.Missing}}a{{else with .State}}{{.ExitCode}}{{end}}", "3")]
    public void PipelinesVariablesAndWith(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{if .State.Running}}up{{else if eq .State.ExitCode 3}}three{{else}}other{{end}}", "three")]
    [InlineData("{{if and .Count .Name}}both{{end}}", "both")]
    [InlineData("{{or .Config.Missing .Name}}", "/web")]
    [InlineData("{{and .Count .Empty}}", "[]")]
    [InlineData("{{not .State.Running}}", "true")]
    [InlineData("{{if .Empty}}full{{else}}empty{{end}}", "empty")]
    [InlineData("{{eq .State.Status \"created\" \"exited\"}}", "true")]
    [InlineData("{{ne .Count 2}} {{lt .Count 3}} {{le .Count 2}} {{gt .Ratio 0.5}} {{ge \"b\" \"a\"}}", "false true true false true")]
    [InlineData("{{eq .Config.Missing nil}}", "true")]
    public void ConditionsAndComparisons(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{range .Config.Env}}[{{.}}]{{end}}", "[PATH=/usr/bin][LANG=C]")]
    [InlineData("{{range $i, $e := .Config.Cmd}}{{$i}}={{$e}} {{end}}", "0=sh 1=-c 2=exit 3 ")]
    [InlineData("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}};{{end}}", "com.example.team:red;version:1.2;")]
    [InlineData("{{range .Empty}}x{{else}}none{{end}}", "none")]
    [InlineData("{{range .Config.Cmd}}{{if eq . \"-c\"}}{{break}}{{end}}{{.}}{{end}}", "sh")]
    [InlineData("{{range .Config.Cmd}}{{if eq . \"-c\"}}{{continue}}{{end}}{{.}},{{end}}", "sh,exit 3,")]
    [InlineData("{{range 3}}{{.}}{{end}}", "012")]
    [InlineData("{{range $v := .Config.Env}}{{$v}} {{end}}", "PATH=/usr/bin LANG=C ")]
    [InlineData("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "172.17.0.2")]
    public void Range(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{define \"T\"}}<{{.}}>{{end}}{{template \"T\" .Name}}", "</web>")]
    [InlineData("{{block \"B\" .Count}}[{{.}}]{{end}}", "[2]")]
    public void DefineTemplateAndBlock(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{len .Config.Env}} {{len .Name}} {{len .Config.Labels}}", "2 4 2")]
    [InlineData("{{slice .Name 1 3}} {{slice .Config.Cmd 1}}", "we [-c exit 3]")]
    [InlineData("{{print .Count .Count \"a\" \"b\"}}", "2 2ab")]
    [InlineData("{{println .Name .Count}}", "/web 2\n")]
    [InlineData("{{printf \"%s|%d|%v|%q|%t|%x|%X|%5.2f|%-4d|%04d|%e|%g|%%\" .Name .Count .Config.Env \"a\" true 255 \"hi\" .Ratio 7 42 1234.5 .Ratio}}",
        "/web|2|[PATH=/usr/bin LANG=C]|\"a\"|true|ff|6869| 0.25|7   |0042|1.234500e+03|0.25|%")]
    [InlineData("{{printf \"%6s|%-6s|%.2s\" \"ab\" \"ab\" \"abc\"}}", "    ab|ab    |ab")]
    [InlineData("{{printf \"%d %s\" 1}}", "1 %!s(MISSING)")]
    [InlineData("{{printf \"%d\" \"x\"}}", "%!d(string=x)")]
    [InlineData("{{printf \"%.1f %d %d\" .Count .Big .Ratio}}", "2.0 1000000 %!d(float64=0.25)")]
    [InlineData("{{html \"<a&b>\"}} {{urlquery \"a b&c\"}}", "&lt;a&amp;b&gt; a+b%26c")]
    public void GoBuiltins(string template, string expected) => Assert.Equal(expected, Render(template));

    // docker's templates package: json, join, split, lower, upper, title, truncate, pad.
    [Theory]
    [InlineData("{{json .Config.Cmd}}", """["sh","-c","exit 3"]""")]
    [InlineData("{{json .State.Health}} {{json .Name}} {{json .Count}}", "null \"/web\" 2")]
    [InlineData("{{json \"<&>\"}}", "\"<&>\"")]
    [InlineData("{{join .Config.Env \",\"}}", "PATH=/usr/bin,LANG=C")]
    [InlineData("{{split \"a:b:c\" \":\"}} {{len (split \"a:b:c\" \":\")}} {{index (split .Name \"/\") 1}}", "[a b c] 3 web")]
    [InlineData("{{lower \"ABC\"}} {{upper .State.Status}} {{title \"hello big-world\"}}", "abc EXITED Hello Big-World")]
    [InlineData("{{truncate .Id 4}}|{{truncate \"ab\" 5}}", "4d8a|ab")]
    [InlineData("{{pad .Name 2 1}}|{{pad \"\" 2 1}}|", "  /web ||")]
    public void DockerFunctions(string template, string expected) => Assert.Equal(expected, Render(template));

    // docs.docker.com, "Format command and log output": each example with the data it describes.
    [Fact]
    public void DockerDocumentedExamples()
    {
        const string inspect = """{"Args":["-g","daemon off;"],"Config":{"Labels":{"a":"1"}},"Status":"up","NetworkSettings":{"Ports":{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}}}""";
        Assert.Equal("-g daemon off;", Render("{{join .Args \" \"}}", inspect));
        Assert.Equal("{\"a\":\"1\"}", Render("{{json .Config.Labels}}", inspect));
        Assert.Equal("UP", Render("{{upper .Status}}", inspect));
        Assert.Equal("up", Render("{{lower .Status}}", inspect));
        Assert.Equal("Up", Render("{{title .Status}}", inspect));
        Assert.Equal("[-g daemon off;]", Render("{{split (join .Args \" \") \" \"}}", inspect));
        Assert.Equal("80/tcp -> 8080\n", Render("{{range $p, $conf := .NetworkSettings.Ports}}{{$p}} -> {{(index $conf 0).HostPort}}\n{{end}}", inspect));
        Assert.Equal("  up  ", Render("{{pad .Status 2 2}}", inspect));
        Assert.Equal("u", Render("{{truncate .Status 1}}", inspect));
        Assert.Equal("up\n", Render("{{println .Status}}", inspect));
    }

    [Fact]
    public void RowsAreStructsWithDockersLabelMethod()
    {
        var row = new TemplateRow("*formatter.ContainerContext", new Dictionary<string, object?> { ["Names"] = "web", ["ID"] = "abc" },
            new Dictionary<string, string> { ["team"] = "red" });
        Assert.Equal("web abc red []", GoTemplate.Parse("{{.Names}} {{.ID}} {{.Label \"team\"}} [{{.Label \"none\"}}]").Execute(row));
        Assert.Equal("{\"Names\":\"web\",\"ID\":\"abc\"}", GoTemplate.Parse("{{json .}}").Execute(row));
        Assert.Equal("template: :1:4: executing \"\" at <.Nope>: can't evaluate field Nope in type *formatter.ContainerContext",
            Assert.Throws<TemplateException>(() => GoTemplate.Parse("x {{.Nope}}").Execute(row)).Message);
        var header = new TemplateRow("h", new Dictionary<string, object?> { ["Names"] = "NAMES" });
        Assert.Equal("NAMES", GoTemplate.Parse("{{upper .Names | lower}}").ForHeader().Execute(header));
    }

    [Theory]
    [InlineData("{{.State.ExitCode}", "template: :1: unexpected \"}\" in operand")]
    [InlineData("{{.State.ExitCode", "template: :1: unclosed action")]
    [InlineData("{{if .Name}}x", "template: :1: unexpected EOF")]
    [InlineData("x{{end}}", "template: :1: unexpected {{end}}")]
    [InlineData("{{else}}", "template: :1: unexpected {{else}}")]
    [InlineData("{{nope .Name}}", "template: :1: function \"nope\" not defined")]
    [InlineData("{{$x}}", "template: :1: undefined variable \"$x\"")]
    [InlineData("{{}}", "template: :1: missing value for command")]
    [InlineData("{{if}}{{end}}", "template: :1: missing value for if")]
    [InlineData("{{\"abc}}", "template: :1: unterminated quoted string")]
    [InlineData("{{/* open }}", "template: :1: unclosed comment")]
    [InlineData("{{break}}", "template: :1: {{break}} outside {{range}}")]
    [InlineData("a\n{{.Name | 3}}", "template: :2: non executable command in pipeline stage 2")]
    [InlineData("{{.Name)}}", "template: :1: unexpected right paren")]
    public void ParseErrorsAsGoWordsThem(string template, string expected)
        => Assert.Equal(expected, Assert.Throws<TemplateException>(() => GoTemplate.Parse(template)).Message);

    [Theory]
    [InlineData("{{.State.Health.Status}}", "template: :1:8: executing \"\" at <.State.Health.Status>: nil pointer evaluating interface {}.Status")]
    [InlineData("{{index .Config.Cmd 5}}", "template: :1:2: executing \"\" at <index .Config.Cmd 5>: error calling index: index out of range: 5")]
    [InlineData("{{eq .Count \"2\"}}", "template: :1:2: executing \"\" at <eq .Count \"2\">: error calling eq: incompatible types for comparison")]
    [InlineData("{{lt .State.Running true}}", "template: :1:2: executing \"\" at <lt .State.Running true>: error calling lt: invalid type for comparison")]
    [InlineData("x\n {{len .Count}}", "template: :2:3: executing \"\" at <len .Count>: error calling len: len of type int")]
    [InlineData("{{upper .Count}}", "template: :1:2: executing \"\" at <upper .Count>: wrong type for value; expected string; got int")]
    [InlineData("{{.Config.Cmd | join \" \" | upper}}", "template: :1:16: executing \"\" at <join \" \">: wrong type for value; expected []string; got string")]
    [InlineData("{{join .Name}}", "template: :1:2: executing \"\" at <join>: wrong number of args for join: want 2 got 1")]
    [InlineData("{{.Name.First}}", "template: :1:7: executing \"\" at <.Name.First>: can't evaluate field First in type string")]
    [InlineData("{{range .Name}}{{end}}", "template: :1:8: executing \"\" at <.Name>: range can't iterate over /web")]
    public void ExecutionErrorsAsGoWordsThem(string template, string expected) => Assert.Equal(expected, Error(template));

    [Fact]
    public void TablesAlignAsDockersTabwriter()
    {
        var format = Output.ParseRows("table {{.ID}}\\t{{.Image}}", "");
        var header = new TemplateRow("h", new Dictionary<string, object?> { ["ID"] = "CONTAINER ID", ["Image"] = "IMAGE" });
        TemplateRow Row(string id, string image) => new("r", new Dictionary<string, object?> { ["ID"] = id, ["Image"] = image });
        var output = new StringWriter();
        Output.Rows(output, format, header, [Row("4d8a2b0c5e3f", "busybox"), Row("1", "alpine:3.20")]);
        // minimum width 10, padding 3: "CONTAINER ID" (12) + 3 = 15; the last column is not padded.
        Assert.Equal("CONTAINER ID   IMAGE\n4d8a2b0c5e3f   busybox\n1              alpine:3.20\n", output.ToString());

        var plain = new StringWriter();
        Output.Rows(plain, Output.ParseRows("{{.ID}}:{{.Image}}", ""), header, [Row("a", "b")]);
        Assert.Equal("a:b\n", plain.ToString());

        Assert.Equal("a         b\nlonger    c\n", Output.TabWriter("a\tb\nlonger\tc\n", minWidth: 10, padding: 3));
        // A line without the column ends the block: the columns after it are aligned on their own.
        Assert.Equal("a   b\nx\nlonger   c\n", Output.TabWriter("a\tb\nx\nlonger\tc\n", minWidth: 0, padding: 3));
    }
}
