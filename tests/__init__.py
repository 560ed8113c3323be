"""xlcheck's tests."""

# Import xlcheck before anything imports openpyxl, as the command line does: xlcheck keeps openpyxl
# on the standard library XML parser with defusedxml even though python-docx installs lxml.
import xlcheck  # noqa: F401
