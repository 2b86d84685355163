using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.Identity.Web;
using PimPortal.Core;
using PimPortal.Core.Security;

namespace PimPortal.Auth;

/// <summary>
/// Entra mode: OpenID Connect sign-in through Microsoft.Identity.Web (section <c>AzureAd</c>), portal permissions from
/// the token's app roles, and step-up through a Conditional Access authentication context claims challenge whose
/// evidence is recorded when Entra's token comes back — bound to one step-up, its user and a few minutes.
/// </summary>
internal static class EntraAuthentication
{
    public const string SignInPath = "/entra/signin";
    public const string SignOutPath = "/entra/signout";

    /// <summary>What the app registration (<c>AzureAd</c>) lacks for Entra sign-in, as one line; null when complete.</summary>
    public static string? MissingRegistration(IConfiguration configuration)
    {
        var azureAd = configuration.GetSection("AzureAd");
        var missing = new[] { "Instance", "TenantId", "ClientId" }.Where(k => string.IsNullOrWhiteSpace(azureAd[k])).ToList();
        if (string.IsNullOrWhiteSpace(azureAd["ClientSecret"]) && azureAd.GetSection("ClientCertificates").GetChildren().Any() is false)
        {
            missing.Add("ClientSecret (or ClientCertificates)");
        }

        return missing.Count == 0
            ? null
            : $"Pim:Mode is Entra, so the app registration must be configured: set AzureAd:{string.Join(", AzureAd:", missing)}. See docs/entra-setup.md.";
    }

    /// <summary>Entra's sign-in host (<c>AzureAd:Instance</c>), where signing out redirects: a form may lead there.</summary>
    public static IEnumerable<string> FormTargets(IConfiguration configuration) =>
        Uri.TryCreate(configuration["AzureAd:Instance"], UriKind.Absolute, out var instance)
            ? [instance.GetLeftPart(UriPartial.Authority)]
            : [];

    /// <summary>Where the id of the step-up rides in the OIDC round trip (protected in the state parameter).</summary>
    public const string StepUpItem = "pim:stepup";

    public static void AddEntraSignIn(this IServiceCollection services, IConfiguration configuration, PimOptions options)
    {
        var azureAd = configuration.GetSection("AzureAd");
        services.AddAuthentication(OpenIdConnectDefaults.AuthenticationScheme)
            .AddMicrosoftIdentityWebApp(
                oidc =>
                {
                    azureAd.Bind(oidc);
                    oidc.ResponseType = "code";
                    oidc.SaveTokens = false;
                    oidc.Events ??= new OpenIdConnectEvents();
                    var redirecting = oidc.Events.OnRedirectToIdentityProvider;
                    oidc.Events.OnRedirectToIdentityProvider = async context =>
                    {
                        await redirecting(context);
                        if (context.Properties.Items.ContainsKey(StepUpItem))
                        {
                            // Ask Entra for the authentication context: Conditional Access decides what the user must prove.
                            context.ProtocolMessage.SetParameter("claims", ClaimsRequest(options.StepUp.AuthenticationContext));
                        }
                    };
                    var validated = oidc.Events.OnTokenValidated;
                    oidc.Events.OnTokenValidated = async context =>
                    {
                        await validated(context);
                        await OnTokenValidatedAsync(context);
                    };
                },
                cookie =>
                {
                    cookie.LoginPath = SignInPath;
                    cookie.LogoutPath = SignOutPath;
                    cookie.AccessDeniedPath = "/access-denied";
                    cookie.Cookie.Name = "PimPortal.Session";
                    cookie.Cookie.HttpOnly = true;
                    cookie.Cookie.SameSite = SameSiteMode.Lax;
                    cookie.Cookie.SecurePolicy = CookieSecurePolicy.Always;
                    // Permissions come from the token's app roles: a session ends 8 hours after sign-in, so a role
                    // taken away in Entra counts from the next sign-in, at most 8 hours later.
                    cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
                    cookie.SlidingExpiration = false;
                });
        services.AddScoped<AuthenticationStateProvider, EntraSessionRevalidation>();
    }

    public static void MapEntraEndpoints(this WebApplication app)
    {
        app.MapGet(SignInPath, (string? returnUrl) =>
                Results.Challenge(new AuthenticationProperties { RedirectUri = ReturnUrl.Safe(returnUrl) }, [OpenIdConnectDefaults.AuthenticationScheme]))
            .AllowAnonymous();

        // The antiforgery middleware only records its verdict; a sign-out without the page's token is refused here.
        app.MapPost(SignOutPath, (HttpContext http) =>
                http.Features.Get<Microsoft.AspNetCore.Antiforgery.IAntiforgeryValidationFeature>() is { IsValid: true }
                    ? Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [CookieAuthenticationDefaults.AuthenticationScheme, OpenIdConnectDefaults.AuthenticationScheme])
                    : Results.BadRequest("Sign out from the portal's own page."))
            .WithMetadata(new Microsoft.AspNetCore.Antiforgery.RequireAntiforgeryTokenAttribute());

        // The step-up round trip: only for the signed-in user's own step-up that still waits; back to the page it
        // started on (My roles, or a role's settings: ?then=, kept on this site) to resume.
        app.MapGet("/stepup/{id:guid}", async (Guid id, string? then, HttpContext http, StepUpRecorder stepUps) =>
        {
            var back = ReturnUrl.Safe(then);
            var separator = back.Contains('?', StringComparison.Ordinal) ? '&' : '?';
            var nonce = http.Request.Cookies[$"pim-stepup-{id}"];
            if (http.User.GetPrincipalId() is not { } me || !await stepUps.IsWaitingAsync(id, me, nonce, http.RequestAborted))
            {
                return Results.Redirect($"{back}{separator}stepup-failed={id}");
            }

            var properties = new AuthenticationProperties { RedirectUri = $"{back}{separator}resume={id}" };
            properties.Items[StepUpItem] = id.ToString();
            return Results.Challenge(properties, [OpenIdConnectDefaults.AuthenticationScheme]);
        });
    }

    /// <summary>The OIDC claims request for an authentication context: {"id_token":{"acrs":{"essential":true,"value":"c1"}}}.</summary>
    public static string ClaimsRequest(string context) =>
        new System.Text.Json.Nodes.JsonObject
        {
            ["id_token"] = new System.Text.Json.Nodes.JsonObject
            {
                ["acrs"] = new System.Text.Json.Nodes.JsonObject { ["essential"] = true, ["value"] = context },
            },
        }.ToJsonString();

    private static async Task OnTokenValidatedAsync(TokenValidatedContext context)
    {
        var services = context.HttpContext.RequestServices;
        var principal = context.Principal!;
        var client = AuthEndpoints.ClientOf(context.HttpContext);
        var refusal = await services.GetRequiredService<EntraSignIn>().AdmitAsync(principal, client, context.HttpContext.RequestAborted);
        if (refusal is not null)
        {
            context.Fail(refusal);
            return;
        }

        // The session id the MFA rules bind to: Entra's sid, or one of our own.
        if (principal.Identity is System.Security.Claims.ClaimsIdentity identity && identity.FindFirst(Core.ClaimsPrincipalExtensions.SessionClaim) is null)
        {
            identity.AddClaim(new System.Security.Claims.Claim(Core.ClaimsPrincipalExtensions.SessionClaim, principal.FindFirst("sid")?.Value ?? Guid.NewGuid().ToString("N")));
        }

        if (context.Properties?.Items.TryGetValue(StepUpItem, out var value) == true && Guid.TryParse(value, out var challenge))
        {
            // Evidence is what this token proves for this step-up now — never a claim remembered in the cookie.
            await services.GetRequiredService<StepUpRecorder>().RecordAsync(challenge, principal, client, context.HttpContext.RequestAborted);
        }
    }
}
