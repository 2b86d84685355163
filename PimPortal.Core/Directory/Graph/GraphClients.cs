using Azure.Identity;
using Microsoft.Graph;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Authentication.Azure;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;

namespace PimPortal.Core.Directory.Graph;

/// <summary>
/// Builds the Graph client the gateway uses: the SDK's middleware without its retry handler (a write is never repeated
/// blindly: throttling goes back to the outbox with Retry-After, and an ambiguous failure is read back).
/// </summary>
public static class GraphClients
{
    /// <summary>
    /// A client for <paramref name="options"/>: app-only with the client secret; with no credentials (a local stub)
    /// it sends no token.
    /// </summary>
    public static GraphServiceClient Create(GraphDirectoryOptions options, HttpMessageHandler? finalHandler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var handlers = GraphClientFactory.CreateDefaultHandlers().Where(h => h is not RetryHandler).ToList();
        var http = GraphClientFactory.Create(handlers, finalHandler: finalHandler);
        http.Timeout = Timeout.InfiniteTimeSpan;
        IAuthenticationProvider auth = string.IsNullOrEmpty(options.ClientId)
            ? new AnonymousAuthenticationProvider()
            : new AzureIdentityAuthenticationProvider(
                new ClientSecretCredential(options.TenantId, options.ClientId, options.ClientSecret),
                allowedHosts: [options.BaseUrl.Host],
                scopes: [$"{options.BaseUrl.GetLeftPart(UriPartial.Authority)}/.default"]);
        return new GraphServiceClient(http, auth, options.BaseUrl.AbsoluteUri.TrimEnd('/'));
    }
}
