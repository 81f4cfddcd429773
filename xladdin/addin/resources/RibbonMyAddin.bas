Attribute VB_Name = "RibbonMyAddin"
' kpisheet's one ribbon callback: every button of customUI.xml names it in its
' onAction, and it hands the pressed button's id to Python, which decides what
' the button does (kpisheet.xladdin.excel.handlers.on_ribbon). A new button is
' an XML and a Python change only. The one exception is importing the
' worksheet functions, which is xlwings' own VBA work.
' The add-in build puts this text into the VBA project of xlwings' ribbon
' add-in template, in place of the template's RunMain.
' Keep it ASCII: the VBA project stores code page 1252. Every message the
' user sees comes from Python, in Chinese and English.
Option Explicit

Sub KpisheetRibbon(control As IRibbonControl)
    If control.Id = "kpisheetImportFunctions" Then
        ' xlwings writes the UDF wrappers into this add-in; saving keeps them
        ImportPythonUDFsToAddin
        ThisWorkbook.Save
    Else
        RunPython "import kpisheet.xladdin.excel.handlers as kpisheet_handlers; kpisheet_handlers.on_ribbon('" & control.Id & "')"
    End If
End Sub
