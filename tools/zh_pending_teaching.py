"""Chinese for the new msgids of issue 7, points 5 (related cases) and 6 (e家学 teaching cases).
Merge with: python tools/merge_zh.py tools/zh_pending_teaching.py"""
ZH = {
    # related cases
    "Related cases": "关联案件",
    "The same people appear in other cases": "相同当事人另涉其他案件",
    "same ID number": "身份证号相同",
    "same name and birth date": "姓名、出生日期相同",
    "same name and phone": "姓名、电话相同",
    "A related case is held by %(unit)s, outside your area: contact that unit.":
        "%(unit)s 有一件关联案件（不在您的辖区内），请与该单位联系。",
    "The same people appear in %(n)d other case(s) or unit(s) of the network: see “Related cases” on this page.":
        "相同当事人另涉网络内 %(n)d 件案件或单位：请看本页“关联案件”。",
    "No parties given.": "没有提供当事人。",
    # teaching cases: navigation, library, statuses
    "Teaching cases": "以案释法",
    "Anonymised cases of the network that explain the law (以案释法), approved by the station.":
        "经驿站审核发布的匿名化案例，以案释法。",
    "Library": "案例库",
    "My drafts": "我的草稿",
    "To review": "待审核",
    "(untitled)": "（无标题）",
    "Nothing here yet.": "暂无内容。",
    "draft": "草稿",
    "submitted for review": "待审核",
    "approved": "已审核",
    "published": "已发布",
    "returned": "已退回",
    # teaching cases: the case page, the form, the page
    "Teaching case (e家学)": "以案释法案例（e家学）",
    "Draft a teaching case": "起草以案释法案例",
    "Edit teaching case": "编辑以案释法案例",
    "Drafted automatically from the case with names, ID numbers, phones, addresses, exact dates and place "
    "names removed. Read it through, remove anything else that could identify the family, and write the "
    "legal point. Every save is checked.":
        "已根据案件自动生成，姓名、身份证号、电话、住址、具体日期和地名均已去除。请通读全文，删去其他可能识别出"
        "当事人家庭的内容，并写明法律要点。每次保存都会再次检查。",
    "Title": "标题",
    "Give a title.": "请填写标题。",
    "Facts and background": "基本案情",
    "Mediation process": "调解过程",
    "Outcome": "调解结果",
    "Legal point (the law this case teaches)": "法律要点（以案释法）",
    "Save draft": "保存草稿",
    "Save and submit for review": "保存并提交审核",
    "Returned by the station": "驿站退回",
    "Print (PDF)": "打印（PDF）",
    "Edit and submit": "编辑并提交",
    "Approve": "审核通过",
    "Publish to the library": "发布到案例库",
    "Return to the author, with the reason": "退回作者（请写明理由）",
    "Return": "退回",
    "Done.": "已完成。",
    "Submitted for review.": "已提交审核。",
    "Draft created from the case, anonymised automatically. Check it, add the legal point and submit.":
        "已根据案件生成草稿并自动匿名化。请检查、补充法律要点后提交。",
    # teaching cases: refusals
    "A teaching case can be drafted from a closed or archived case by its mediators.":
        "只有已结案或已归档案件的调解员可以起草以案释法案例。",
    "still contains a party's name: %(value)s": "仍含有当事人姓名：%(value)s",
    "still contains an ID number: %(value)s": "仍含有身份证号：%(value)s",
    "still contains a phone number: %(value)s": "仍含有电话号码：%(value)s",
    "still contains a village or town name of the case: %(value)s": "仍含有本案的村镇名称：%(value)s",
    "Not saved: the text %(what)s. Replace it (e.g. 张某, 某村) and save again.":
        "未保存：文中%(what)s。请改为“张某”“某村”等后再保存。",
    "This teaching case cannot be edited now.": "此案例现在不能编辑。",
    "This teaching case cannot be submitted now.": "此案例现在不能提交。",
    "Give a title, the facts and the legal point before submitting.": "提交前请填写标题、基本案情和法律要点。",
    "This step is not possible now.": "现在不能进行此操作。",
}
