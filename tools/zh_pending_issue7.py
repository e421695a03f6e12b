"""Chinese for the new msgids of issue 7, points 3 (search) and 4 (case list export).
Merge with: python tools/merge_zh.py tools/zh_pending_issue7.py"""
ZH = {
    # search page and navigation
    "Search cases": "搜索",
    "Case number, name, summary or diary text": "案号、姓名、案情或日记内容",
    "Cases found: %(n)d": "找到案件：%(n)d 件",
    "and %(n)d more matches": "另有 %(n)d 处匹配",
    "Pages": "分页",
    "Previous": "上一页",
    "Next": "下一页",
    "Page %(page)d of %(pages)d": "第 %(page)d 页，共 %(pages)d 页",
    "Nothing found.": "没有找到。",
    "Search case numbers (e.g. 0012), party names, summaries, claims and diary entries of the cases you "
    "may see. One character is enough.":
        "在您有权查看的案件中搜索案号（如 0012）、当事人姓名、案情概况、诉求和调解日记。输入一个字即可。",
    "Search index rebuilt: %(cases)d cases, %(docs)d documents.": "检索索引已重建：%(cases)d 件案件，%(docs)d 条记录。",
    # case list export: the column headers, in the order of the file
    "Case no.": "案号",
    "Accepting unit": "受理单位",
    "Unit holding the case": "持有单位",
    "Dispute category": "类别",
    "Came from": "来源",
    "Result": "结果",
    "Mediators": "调解员",
    "Overdue": "超期",
    # the export buttons on /cases/
    "Export this list:": "导出本列表：",
    "Excel (XLSX)": "Excel 表格（XLSX）",
}
