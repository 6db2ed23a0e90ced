namespace Skiff.Engine;

public sealed partial class ContainerManager
{
    /// <summary>`skiff inspect`: docker's document for one container (serialize a list with <see cref="InspectJsonContext"/>).</summary>
    public ContainerInspect Inspect(string idOrName)
    {
        var container = Get(idOrName);
        return ContainerInspect.From(container, Path.Combine(_options.ContainerDirectory(container.Id), LogFileName));
    }
}
