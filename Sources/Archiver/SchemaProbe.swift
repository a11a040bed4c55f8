enum SchemaProbe { static var n: Int { PackageResources._000_probe_sql.count } }
