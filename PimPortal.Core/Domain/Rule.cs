using System.Linq.Expressions;

namespace PimPortal.Core.Domain;

/// <summary>
/// A rule of the domain written once as an expression of an entity and a value (a moment, a principal): the database
/// runs it in queries, code runs it compiled. <see cref="At"/> gives the query form for one value, sent as a parameter.
/// </summary>
public sealed class Rule<T, TValue>
{
    private readonly Expression<Func<T, TValue, bool>> _expression;
    private readonly Func<T, TValue, bool> _compiled;

    public Rule(Expression<Func<T, TValue, bool>> expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        _expression = expression;
        _compiled = expression.Compile();
    }

    /// <summary>Whether <paramref name="item"/> meets the rule for <paramref name="value"/>.</summary>
    public bool Holds(T item, TValue value) => _compiled(item, value);

    /// <summary>The rule for one value, as a query filter (the value becomes a parameter of the SQL, not a literal).</summary>
    public Expression<Func<T, bool>> At(TValue value)
    {
        var holder = Expression.Property(Expression.Constant(new Holder(value)), nameof(Holder.Value));
        var body = new Replace(_expression.Parameters[1], holder).Visit(_expression.Body);
        return Expression.Lambda<Func<T, bool>>(body, _expression.Parameters[0]);
    }

    /// <summary>Holds the value as a closure would, so EF Core reads it as a parameter.</summary>
    private sealed class Holder(TValue value)
    {
        public TValue Value { get; } = value;
    }

    private sealed class Replace(ParameterExpression parameter, Expression with) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == parameter ? with : base.VisitParameter(node);
    }
}
