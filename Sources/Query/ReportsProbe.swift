enum ReportsProbe { static var n: Int { PackageResources.README_md.count } }
