namespace PimPortal.Core.Domain;

/// <summary>Thrown by an entity when asked for a change its rules forbid (an illegal transition, a bad value).</summary>
public sealed class DomainRuleException(string message) : PimException(message);
