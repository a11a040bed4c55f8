/// SQL that brings a test archive back to an earlier schema, as an older cloudron-audit left the file, so that
/// the next open upgrades it again (migrations that add columns cannot run twice on one file).
public enum SchemaDowngrade {
    /// Undoes 0015 (oom's extracted columns and the reports' covering indexes), given the SQL of 0010 and 0012,
    /// which make their index, view and indexes again as those migrations made them. The file is then at schema 14.
    public static func beforeReportCoveringIndexes(userRoleLookupsSQL: String, reportLookupsSQL: String) -> String {
        """
        DROP INDEX event_fields_later_versions; DROP INDEX events_ooms; DROP INDEX event_fields_ooms; DROP INDEX event_fields_backup_starts;
        DROP INDEX event_fields_backup_tasks; DROP INDEX event_fields_app_backups;
        DROP INDEX events_user_changes; DROP INDEX event_fields_user_changes; DROP INDEX event_fields_user_states;
        ALTER TABLE event_fields DROP COLUMN oom_addon; ALTER TABLE event_fields DROP COLUMN oom_victim;
        ALTER TABLE event_fields DROP COLUMN oom_app_id;
        \(userRoleLookupsSQL) \(reportLookupsSQL)
        DELETE FROM schema_migrations WHERE version >= 15; PRAGMA user_version = 14;
        """
    }
}
