using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace PimPortal.Core.Persistence;

/// <summary>Recognises a unique-constraint violation whichever engine raised it.</summary>
public static class DbErrors
{
    public static bool IsUniqueViolation(DbUpdateException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.InnerException switch
        {
            SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 2067 or 1555,
            Npgsql.PostgresException postgres => postgres.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation,
            Microsoft.Data.SqlClient.SqlException sqlServer => sqlServer.Number is 2601 or 2627,
            _ => false,
        };
    }
}
