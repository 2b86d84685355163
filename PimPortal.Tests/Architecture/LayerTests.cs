using Mono.Cecil;
using Mono.Cecil.Cil;
using PimPortal.Core;

namespace PimPortal.Tests.Architecture;

/// <summary>
/// The layers of PimPortal.Core, read from its compiled code (every type a type uses: its base, fields, signatures,
/// attributes and the instructions of its method bodies, lambdas and state machines included) — so a dependency written
/// as a fully qualified name is caught as surely as one behind a <c>using</c>. Each layer uses only the layers below it
/// (docs/architecture.md draws them); Features and Jobs never use each other; only the outbox writes the directory.
/// </summary>
public sealed class LayerTests
{
    private const string Root = "PimPortal.Core";

    /// <summary>Each layer, and the layers it may use (itself always).</summary>
    private static readonly Dictionary<string, string[]> MayUse = new()
    {
        ["Kernel"] = ["Domain"],
        ["Domain"] = ["Kernel"],
        ["Policy"] = ["Kernel", "Domain"],
        ["Persistence"] = ["Kernel", "Domain"],
        ["Signals"] = [],
        ["Directory"] = ["Kernel", "Domain", "Policy", "Persistence"],
        ["Notifications"] = ["Kernel", "Domain", "Persistence", "Signals"],
        ["Audit"] = ["Kernel", "Domain", "Persistence"],
        ["Lifecycle"] = ["Kernel", "Domain", "Policy", "Persistence", "Signals", "Directory"],
        ["Security"] = ["Kernel", "Domain", "Policy", "Persistence", "Signals", "Lifecycle"],
        ["Behaviours"] = ["Kernel", "Domain", "Persistence", "Lifecycle", "Security"],
        ["Features"] = ["Kernel", "Domain", "Policy", "Persistence", "Signals", "Directory", "Notifications", "Audit", "Lifecycle", "Security", "Behaviours"],
        ["Jobs"] = ["Kernel", "Domain", "Policy", "Persistence", "Signals", "Directory", "Notifications", "Audit", "Lifecycle", "Security"],
        ["Seed"] = ["Kernel", "Domain", "Policy", "Persistence", "Audit", "Security"],
    };

    /// <summary>The one place that calls <see cref="Core.Directory.IDirectoryGateway.ApplyAsync"/>: every directory write goes through the outbox.</summary>
    private static readonly string[] DirectoryWriters = [typeof(Core.Lifecycle.OutboxProcessor).FullName!];

    private static readonly Lazy<Analysis> Compiled = new(Analyse);

    [Fact]
    public void EveryLayer_UsesOnlyTheLayersBelowIt()
    {
        var violations = Compiled.Value.Uses
            .Where(u => u.From != u.To && !MayUse[u.From].Contains(u.To))
            .Select(u => $"{u.FromType} ({u.From}) uses {u.ToType} ({u.To})")
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(violations.Count == 0, "Layering broken:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void FeaturesAndJobs_NeverUseEachOther_AndCommonUsesNeither()
    {
        // Common is the kernel (the root namespace) and the pipeline behaviours.
        var across = Compiled.Value.Uses
            .Where(u => (u.From, u.To) is ("Features", "Jobs") or ("Jobs", "Features") || (u.From is "Kernel" or "Behaviours" && u.To is "Features" or "Jobs"))
            .Select(u => $"{u.FromType} uses {u.ToType}")
            .Distinct()
            .ToList();

        Assert.True(across.Count == 0, string.Join("\n", across));
    }

    [Fact]
    public void OnlyTheOutbox_WritesTheDirectory_WhileFeaturesStillRead()
    {
        var writers = Compiled.Value.GatewayCalls.Where(c => c.Method == "ApplyAsync").Select(c => c.Caller).Distinct().Order(StringComparer.Ordinal).ToList();
        var readers = Compiled.Value.GatewayCalls.Where(c => c.Method != "ApplyAsync").Select(c => c.Caller).ToHashSet();

        Assert.Equal(DirectoryWriters, writers);
        Assert.Contains(readers, r => r.StartsWith($"{Root}.Features.", StringComparison.Ordinal));
    }

    [Fact]
    public void TheAnalysis_SeesTheDependenciesThere()
    {
        // A reading that saw nothing would pass every rule above: it must find what the code plainly does.
        var edges = Compiled.Value.Uses.Select(u => (u.From, u.To)).ToHashSet();

        Assert.Contains(("Features", "Lifecycle"), edges);
        Assert.Contains(("Jobs", "Lifecycle"), edges);
        Assert.Contains(("Lifecycle", "Domain"), edges);
        Assert.Contains(("Lifecycle", "Policy"), edges);
        Assert.Contains(Compiled.Value.Uses, u => u.FromType == typeof(Core.Features.Activation.DeactivateRolesHandler).FullName && u.ToType == typeof(Core.Lifecycle.Grants).FullName);
        Assert.All(Compiled.Value.Uses, u => Assert.True(MayUse.ContainsKey(u.From) && MayUse.ContainsKey(u.To), $"{u.FromNamespace} or {u.ToType} has no layer"));
    }

    /// <summary>The layer of a namespace of PimPortal.Core, or null outside it (generated code, the framework).</summary>
    private static string? LayerOf(string ns)
    {
        if (ns == Root)
        {
            return "Kernel";
        }

        if (!ns.StartsWith(Root + ".", StringComparison.Ordinal))
        {
            return null;
        }

        var area = ns[(Root.Length + 1)..].Split('.');
        return area[0] switch
        {
            "Common" when area.Length > 1 && area[1] == "Behaviours" => "Behaviours",
            var name => name,
        };
    }

    private static Analysis Analyse()
    {
        using var module = ModuleDefinition.ReadModule(typeof(DependencyInjection).Assembly.Location);
        var uses = new List<Use>();
        var calls = new List<(string Caller, string Method)>();
        foreach (var type in module.GetTypes())
        {
            var top = TopLevel(type);
            if (LayerOf(top.Namespace) is not { } from || top.FullName == typeof(DependencyInjection).FullName)
            {
                // The composition root wires every layer together; it is not one of them.
                continue;
            }

            foreach (var used in Referenced(type))
            {
                var target = TopLevel(used);
                if (LayerOf(target.Namespace) is { } to)
                {
                    uses.Add(new Use(top.FullName, top.Namespace, from, target.FullName, to));
                }
            }

            foreach (var method in type.Methods.Where(m => m.HasBody))
            {
                calls.AddRange(method.Body.Instructions
                    .Where(i => i.OpCode.Code is Code.Call or Code.Callvirt && i.Operand is MethodReference { DeclaringType.FullName: "PimPortal.Core.Directory.IDirectoryGateway" })
                    .Select(i => (top.FullName, ((MethodReference)i.Operand).Name)));
            }
        }

        return new Analysis(uses, calls);
    }

    private static TypeReference TopLevel(TypeReference type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        return type;
    }

    /// <summary>Every type <paramref name="type"/> mentions, generic arguments and array elements unwrapped.</summary>
    private static IEnumerable<TypeReference> Referenced(TypeDefinition type)
    {
        var found = new List<TypeReference>();
        void Add(TypeReference? reference)
        {
            switch (reference)
            {
                case null:
                    return;
                case GenericInstanceType generic:
                    Add(generic.ElementType);
                    foreach (var argument in generic.GenericArguments)
                    {
                        Add(argument);
                    }

                    return;
                case TypeSpecification specification:
                    Add(specification.ElementType);
                    return;
                case GenericParameter:
                    return;
                default:
                    found.Add(reference);
                    return;
            }
        }

        void AddMethod(MethodReference method)
        {
            Add(method.DeclaringType);
            Add(method.ReturnType);
            foreach (var parameter in method.Parameters)
            {
                Add(parameter.ParameterType);
            }

            if (method is GenericInstanceMethod generic)
            {
                foreach (var argument in generic.GenericArguments)
                {
                    Add(argument);
                }
            }
        }

        void AddAttributes(ICustomAttributeProvider provider)
        {
            foreach (var attribute in provider.CustomAttributes)
            {
                Add(attribute.AttributeType);
                foreach (var argument in attribute.ConstructorArguments)
                {
                    Add(argument.Value as TypeReference);
                }
            }
        }

        Add(type.BaseType);
        AddAttributes(type);
        foreach (var contract in type.Interfaces)
        {
            Add(contract.InterfaceType);
        }

        foreach (var field in type.Fields)
        {
            Add(field.FieldType);
            AddAttributes(field);
        }

        foreach (var property in type.Properties)
        {
            Add(property.PropertyType);
            AddAttributes(property);
        }

        foreach (var method in type.Methods)
        {
            AddMethod(method);
            AddAttributes(method);
            if (!method.HasBody)
            {
                continue;
            }

            foreach (var variable in method.Body.Variables)
            {
                Add(variable.VariableType);
            }

            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference reference:
                        Add(reference);
                        break;
                    case MethodReference reference:
                        AddMethod(reference);
                        break;
                    case FieldReference reference:
                        Add(reference.DeclaringType);
                        Add(reference.FieldType);
                        break;
                }
            }
        }

        return found;
    }

    private sealed record Use(string FromType, string FromNamespace, string From, string ToType, string To);

    private sealed record Analysis(IReadOnlyList<Use> Uses, IReadOnlyList<(string Caller, string Method)> GatewayCalls);
}
