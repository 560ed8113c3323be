"""xlcheck's tests."""
