"""Chinese for the msgids added while closing issue 4 (diary edit history, the 413 page,
"add a term"); merge with `python tools/merge_zh.py tools/zh_pending_issue4.py`."""
ZH = {
    "A file can be at most %(mb)d MB; this one is larger, and nothing was saved. Go back and choose a smaller "
    "file, or take the photo again at a lower resolution.":
        "每个文件最大 %(mb)d MB，此文件超过限制，未保存任何内容。请返回选择较小的文件，或以较低分辨率重新拍照。",
    "Add a term": "添加一条协议",
    "After": "修改后",
    "Back to the case": "返回案件",
    "Back to the previous page": "返回上一页",
    "Before": "修改前",
    "Confidential": "保密",
    "Position": "意见",
    "Saved without changes.": "保存时没有改动。",
    "Show the changes": "查看修改记录",
}
