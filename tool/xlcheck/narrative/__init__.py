"""The 自评报告: draft it from a verified workbook, and check a written report's figures."""
