namespace PimPortal.Core;

/// <summary>A refusal the user can act on: its message is written for them and is safe to show.</summary>
public abstract class PimException(string message) : Exception(message);

/// <summary>The input is malformed; <see cref="Errors"/> names each field and what is wrong with it.</summary>
public sealed class ValidationFailedException(IReadOnlyDictionary<string, string[]> errors)
    : PimException(string.Join(" ", errors.SelectMany(e => e.Value)))
{
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}

/// <summary>The signed-in user may not do this (or is not signed in, or is disabled).</summary>
public sealed class ForbiddenException(string message) : PimException(message);

/// <summary>The thing asked for does not exist for this user (it may exist for someone else: we do not say).</summary>
public sealed class NotFoundException(string message) : PimException(message);

/// <summary>The policy refused; <see cref="Reasons"/> lists every reason, each actionable.</summary>
public sealed class RefusedException(string message, IReadOnlyList<string> reasons) : PimException(message)
{
    public RefusedException(string message)
        : this(message, [message])
    {
    }

    public IReadOnlyList<string> Reasons { get; } = reasons;
}

/// <summary>Someone else changed the same thing at the same moment; reload and try again.</summary>
public sealed class ConflictException(string message) : PimException(message);

/// <summary>Refused before it was tried: too many attempts; <see cref="RetryAfter"/> says when the next is let through.</summary>
public sealed class RateLimitedException(string message, TimeSpan retryAfter) : PimException(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
