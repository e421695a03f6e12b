"""Chinese for the msgids added by the demo cases loader (issue 7 point 8); merge with
`python tools/merge_zh.py tools/zh_pending_demo.py`."""
ZH = {
    "%(n)d demo cases replayed through the workflow.": "已按办案流程载入 %(n)d 件演示案件。",
}
