using System.Diagnostics;
using Mediator;
using Microsoft.Extensions.Logging;

namespace PimPortal.Core.Common.Behaviours;

/// <summary>
/// Opens the correlation scope of a message and its span (<see cref="PimTelemetry"/>: the command's name and outcome —
/// ok, refused, failed), and logs how it ended and how long it took.
/// </summary>
public sealed partial class LoggingBehaviour<TMessage, TResponse>(ILogger<LoggingBehaviour<TMessage, TResponse>> logger)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IMessage
{
    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        using var scope = Correlation.Begin();
        var started = Stopwatch.GetTimestamp();
        var name = typeof(TMessage).Name;
        using var activity = PimTelemetry.Source.StartActivity(name);
        activity?.SetTag("pim.command", name);
        activity?.SetTag("pim.correlation_id", Correlation.Current);
        try
        {
            var response = await next(message, cancellationToken);
            LogHandled(logger, name, Stopwatch.GetElapsedTime(started).TotalMilliseconds, Correlation.Current);
            activity?.SetTag("pim.outcome", "ok");
            return response;
        }
        catch (PimException ex)
        {
            LogRefused(logger, name, ex.GetType().Name, ex.Message, Correlation.Current);
            activity?.SetTag("pim.outcome", "refused");
            activity?.SetTag("pim.refusal", ex.GetType().Name);
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFailed(logger, ex, name, Correlation.Current);
            activity?.SetTag("pim.outcome", "failed");
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Message} handled in {ElapsedMs:0.0} ms ({CorrelationId})")]
    private static partial void LogHandled(ILogger logger, string message, double elapsedMs, string? correlationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Message} refused: {Kind}: {Reason} ({CorrelationId})")]
    private static partial void LogRefused(ILogger logger, string message, string kind, string reason, string? correlationId);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Message} failed ({CorrelationId})")]
    private static partial void LogFailed(ILogger logger, Exception exception, string message, string? correlationId);
}
