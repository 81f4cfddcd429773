"""kpisheet: 售后服务部员工绩效考核 in Excel.

The distribution's one namespace. Its three parts live in the design card's
top-level folders and install as ``kpisheet.validators`` (the domain core),
``kpisheet.workbook_templates`` (the forms) and ``kpisheet.xladdin`` (the
faces and services); see docs/architecture.md.
"""

__version__ = "0.1.0"
