using MudBlazor;

namespace PimPortal.Components.Layout;

/// <summary>The portal's colours and type: MudBlazor's defaults with a system font stack (no web font download).</summary>
internal static class PortalTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1f4e8c",
            AppbarBackground = "#1f4e8c",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography
            {
                FontFamily = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
            },
        },
    };
}
