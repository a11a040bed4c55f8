/// The tool's version, defined once: `--version`, the `User-Agent: cloudron-audit/<version>` of every
/// request, and the `toolVersion` of a report export's manifest. In Client, the lowest module, so
/// that every other module and the command line read the same constant.
public enum CloudronAuditVersion {
    public static let current = "0.1.0"
}
