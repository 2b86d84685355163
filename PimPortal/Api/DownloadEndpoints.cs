using System.Globalization;
using Mediator;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Http.Features;
using PimPortal.Auth;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Audit;

namespace PimPortal.Api;

/// <summary>
/// The downloads, streamed, each through the same command as everywhere (so Core checks the permission; the request's
/// user is the actor): <c>GET /audit/export?format=csv|jsonl&amp;from=…&amp;to=…&amp;actor=…&amp;subject=…&amp;role=…&amp;action=…&amp;outcome=…&amp;text=…</c>
/// (<see cref="ExportAudit"/>), <c>GET /audit/digest</c> and <c>GET /reviews/instances/{id}/report</c>.
/// </summary>
internal static class DownloadEndpoints
{
    public static void MapDownloads(this WebApplication app)
    {
        app.MapGet("/audit/export", async (HttpContext http, ISender sender, AuthenticationStateProvider authentication, ClientContext client) =>
        {
            ActAsRequestUser(http, authentication, client);
            var query = http.Request.Query;
            var format = string.Equals(query["format"], "jsonl", StringComparison.OrdinalIgnoreCase) ? AuditExportFormat.JsonLines : AuditExportFormat.Csv;
            if (!TryFilter(query, out var filter, out var problem))
            {
                return Results.BadRequest(problem);
            }

            var extension = format == AuditExportFormat.Csv ? "csv" : "jsonl";
            return await DownloadAsync(http, format == AuditExportFormat.Csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8", $"pimportal-audit-{DateTime.UtcNow:yyyyMMdd-HHmmss}.{extension}",
                body => sender.Send(new ExportAudit(filter, format, body), http.RequestAborted).AsTask());
        }).RequireAuthorization(HostSetup.AuditReaders);

        // GET /audit/digest: every checkpoint of the trail, to keep away from the database (verify-audit --digest).
        app.MapGet("/audit/digest", async (HttpContext http, ISender sender, AuthenticationStateProvider authentication, ClientContext client) =>
        {
            ActAsRequestUser(http, authentication, client);
            return await DownloadAsync(http, "application/x-ndjson; charset=utf-8", $"pimportal-audit-digest-{DateTime.UtcNow:yyyyMMdd-HHmmss}.jsonl",
                body => sender.Send(new ExportAuditDigest(body), http.RequestAborted).AsTask());
        }).RequireAuthorization(HostSetup.AuditReaders);

        // GET /reviews/instances/{id}/report: an access review instance's report as CSV.
        app.MapGet("/reviews/instances/{id:guid}/report", async (Guid id, HttpContext http, ISender sender, AuthenticationStateProvider authentication, ClientContext client) =>
        {
            ActAsRequestUser(http, authentication, client);
            return await DownloadAsync(http, "text/csv; charset=utf-8", $"pimportal-access-review-{id:N}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.csv",
                body => sender.Send(new Core.Features.Reviews.ExportReviewReport(id, body), http.RequestAborted).AsTask());
        }).RequireAuthorization(PortalPermissions.GovernanceLead);
    }

    /// <summary>
    /// Streams what <paramref name="write"/> writes as a file download (unbuffered); a refusal (or an unknown id) before
    /// anything was written is a 403 (404) with the reason, not an empty file.
    /// </summary>
    private static async Task<IResult> DownloadAsync(HttpContext http, string contentType, string fileName, Func<Stream, Task> write)
    {
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        http.Response.ContentType = contentType;
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        try
        {
            await write(http.Response.Body);
        }
        catch (ForbiddenException ex) when (!http.Response.HasStarted)
        {
            http.Response.Headers.ContentDisposition = default;
            return Results.Problem(ex.Message, statusCode: StatusCodes.Status403Forbidden);
        }
        catch (NotFoundException ex) when (!http.Response.HasStarted)
        {
            http.Response.Headers.ContentDisposition = default;
            return Results.Problem(ex.Message, statusCode: StatusCodes.Status404NotFound);
        }

        return Results.Empty;
    }

    /// <summary>Outside a circuit: the HTTP request's user and address are who and where the command comes from.</summary>
    private static void ActAsRequestUser(HttpContext http, AuthenticationStateProvider authentication, ClientContext client)
    {
        if (authentication is IHostEnvironmentAuthenticationStateProvider host)
        {
            host.SetAuthenticationState(Task.FromResult(new AuthenticationState(http.User)));
        }

        var info = AuthEndpoints.ClientOf(http);
        client.Set(info.Address, info.UserAgent);
    }

    private static bool TryFilter(IQueryCollection query, out AuditFilter filter, out string? problem)
    {
        filter = new AuditFilter();
        problem = null;
        DateTimeOffset? Time(string name)
        {
            var value = query[name].ToString();
            if (value.Length == 0)
            {
                return null;
            }

            return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : throw new FormatException(name);
        }

        Guid? Id(string name)
        {
            var value = query[name].ToString();
            return value.Length == 0 ? null : Guid.TryParse(value, out var id) ? id : throw new FormatException(name);
        }

        try
        {
            var outcome = query["outcome"].ToString();
            filter = new AuditFilter(Time("from"), Time("to"), Id("actor"), Id("subject"), Id("role"), NullIfEmpty(query["action"]),
                outcome.Length == 0 ? null : Enum.TryParse<AuditOutcome>(outcome, ignoreCase: true, out var parsed) ? parsed : throw new FormatException("outcome"),
                NullIfEmpty(query["text"]));
            return true;
        }
        catch (FormatException ex)
        {
            problem = $"The filter '{ex.Message}' is not valid.";
            return false;
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
