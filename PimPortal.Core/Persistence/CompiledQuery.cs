using System.Collections.Concurrent;

namespace PimPortal.Core.Persistence;

/// <summary>
/// A compiled EF query, compiled once per context type: a compiled query is bound to the model it was compiled
/// against, and each provider has its own context (and model).
/// </summary>
internal sealed class CompiledQuery<TQuery>(Func<TQuery> compile)
    where TQuery : class
{
    private readonly ConcurrentDictionary<Type, TQuery> _byContext = new();

    public TQuery For(PimDbContext db) => _byContext.GetOrAdd(db.GetType(), _ => compile());
}
