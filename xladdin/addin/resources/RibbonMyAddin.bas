Attribute VB_Name = "RibbonMyAddin"
' kpisheet ribbon callbacks, one per button of customUI.xml.
' The add-in build puts this text into the VBA project of xlwings' ribbon
' add-in template, in place of the template's RunMain.
' Keep it ASCII: the VBA project stores code page 1252. Every message the
' user sees comes from Python (kpisheet.xladdin.excel.handlers), in Chinese and English.
Option Explicit

Private Sub RunKpisheet(action As String)
    RunPython "import kpisheet.xladdin.excel.handlers as kpisheet_handlers; kpisheet_handlers.on_ribbon('" & action & "')"
End Sub

Sub KpisheetValidate(control As IRibbonControl)
    RunKpisheet "validate"
End Sub

Sub KpisheetRecompute(control As IRibbonControl)
    RunKpisheet "recompute"
End Sub

Sub KpisheetForms(control As IRibbonControl)
    RunKpisheet "forms"
End Sub

Sub KpisheetConsolidate(control As IRibbonControl)
    RunKpisheet "consolidate"
End Sub

Sub KpisheetCalibrate(control As IRibbonControl)
    RunKpisheet "calibrate"
End Sub

Sub KpisheetFindings(control As IRibbonControl)
    RunKpisheet "findings"
End Sub

Sub KpisheetImportFunctions(control As IRibbonControl)
    ' xlwings writes the UDF wrappers into this add-in; saving keeps them
    ImportPythonUDFsToAddin
    ThisWorkbook.Save
End Sub
