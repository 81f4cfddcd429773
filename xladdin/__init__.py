"""kpisheet faces: CLI, consolidation and master writer, xlwings handlers, UDFs and add-in build."""
