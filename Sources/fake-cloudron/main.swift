print("fake-cloudron")
