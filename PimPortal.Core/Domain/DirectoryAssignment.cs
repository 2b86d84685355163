namespace PimPortal.Core.Domain;

/// <summary>
/// The embedded directory's record that a principal holds a role at a scope right now. The local directory gateway
/// writes it for each activation (keyed by the activation id); standing assignments (break-glass) have none.
/// </summary>
public sealed class DirectoryAssignment
{
    private DirectoryAssignment()
    {
    }

    public DirectoryAssignment(Guid id, Guid principalId, Guid roleId, string scope, Guid? activationId, DateTimeOffset assignedAt, DateTimeOffset? expiresAt)
    {
        Id = id;
        PrincipalId = principalId;
        RoleId = roleId;
        Scope = scope;
        ActivationId = activationId;
        AssignedAt = assignedAt;
        ExpiresAt = expiresAt;
    }

    public Guid Id { get; private set; }

    public Guid PrincipalId { get; private set; }

    public Guid RoleId { get; private set; }

    public string Scope { get; private set; } = "";

    /// <summary>The activation that made it; null for a standing (permanent) assignment.</summary>
    public Guid? ActivationId { get; private set; }

    public DateTimeOffset AssignedAt { get; private set; }

    /// <summary>When the directory itself would end it, if it knows; null for permanent.</summary>
    public DateTimeOffset? ExpiresAt { get; private set; }

    public void ExtendTo(DateTimeOffset? expiresAt) => ExpiresAt = expiresAt;
}
