print("cloudron-audit")
