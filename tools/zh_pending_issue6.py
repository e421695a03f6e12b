# Chinese for the new msgids of issue 6 (audit log, encrypted ID numbers, web security, retention).
# Merge with: python tools/merge_zh.py tools/zh_pending_issue6.py
ZH = {
    # audit log: actions and targets
    'Logged in': '登录',
    'Failed login': '登录失败',
    'Logged out': '退出登录',
    'Changed own password': '修改本人密码',
    'Full ID number shown': '查看完整身份证号',
    'Exported': '导出',
    'Case step': '案件流转',
    'Legal hold changed': '变更暂停销毁（法律保留）',
    'Account created': '新建账号',
    'Account changed': '修改账号',
    'Account activated or deactivated': '启用或停用账号',
    'Unit added': '新增单位',
    'Unit changed': '修改单位',
    'Category added': '新增纠纷类别',
    'Category changed': '修改纠纷类别',
    'Case anonymised (retention)': '案件到期匿名化',
    'ID numbers re-encrypted': '身份证号重新加密',
    'Case': '案件',
    'Account': '账号',
    # audit verify
    'Event %(id)d is missing: it was deleted.': '第 %(id)d 条记录缺失：已被删除。',
    'Event %(id)d is out of place: it was inserted.': '第 %(id)d 条记录位置不符：系被插入。',
    'Event %(id)d does not follow the event before it: an event was changed, inserted or deleted.':
        '第 %(id)d 条记录与前一条不衔接：有记录被修改、插入或删除。',
    'Event %(id)d was changed after it was written.': '第 %(id)d 条记录在写入后被修改。',
    'Event %(id)d is missing: the events from it to %(last)d were deleted.':
        '第 %(id)d 条记录缺失：第 %(id)d 至 %(last)d 条已被删除。',
    'Event %(id)d was inserted outside the audit log.': '第 %(id)d 条记录是绕过审计日志插入的。',
    'Event %(id)d is not the last event that was written.': '第 %(id)d 条记录不是最后写入的那一条。',
    'The audit log is intact: %(n)d events.': '审计日志完整：共 %(n)d 条记录。',
    'Last hash: %(hash)s': '最后一条的哈希：%(hash)s',
    'The audit log has been tampered with. %(problem)s': '审计日志已被篡改。%(problem)s',
    '%(n)d events before it are intact.': '此前的 %(n)d 条记录完整。',
    # audit viewer
    'Audit log': '审计日志',
    'Every login, failed login, full ID number shown, print, export, change to accounts, units and categories, '
    'and case step. Events are never changed or deleted; the command “flask audit verify” checks that none was.':
        '记录每次登录、登录失败、查看完整身份证号、打印、导出，对账号、单位和纠纷类别的修改，以及案件流转。'
        '记录不会被修改或删除；命令“flask audit verify”可核验这一点。',
    'Action': '操作',
    'All actions': '全部操作',
    'From date': '起始日期',
    'To date': '截止日期',
    'Target': '对象',
    'Any target': '全部对象',
    'Target number': '对象编号',
    'Clear': '清除',
    'No events match.': '没有符合条件的记录。',
    'Step': '步骤',
    'From status': '原状态',
    'To status': '新状态',
    'Printed document': '打印文书',
    'Active': '启用',
    'Parent unit': '上级单位',
    'Format': '格式',
    'Count': '数量',
    'Minutes': '分钟数',
    'Field': '字段',
    # retention and legal hold
    'This case has already been anonymised.': '该案件已匿名化。',
    'The case is on legal hold: it will not be anonymised.': '已对该案件设置法律保留：不会被匿名化。',
    'The legal hold has been released.': '已解除法律保留。',
    '%(number)s: archived %(archived)s, due %(due)s': '%(number)s：%(archived)s 归档，%(due)s 到期',
    'Dry run: %(n)d cases are due; nothing was changed.': '试运行：%(n)d 件案件已到期；未作任何更改。',
    '%(n)d cases anonymised.': '已匿名化 %(n)d 件案件。',
    'Skipped (changed meanwhile): %(numbers)s': '已跳过（期间有变动）：%(numbers)s',
    'Retention (years after archiving)': '保存期限（归档后年数）',
    'Between 1 and 100 years.': '请填写 1 至 100 年。',
    'Retention': '保存期限',
    'Anonymised on %(date)s: names, ID numbers, contacts and free text were removed.':
        '已于 %(date)s 匿名化：姓名、身份证号、联系方式和文字内容均已清除。',
    'Kept %(n)d years after archiving: anonymised from %(date)s.': '归档后保存 %(n)d 年：自 %(date)s 起匿名化。',
    'Kept %(n)d years after archiving, then anonymised.': '归档后保存 %(n)d 年，期满匿名化。',
    'Legal hold': '法律保留',
    'Reason (required)': '原因（必填）',
    'Release the legal hold': '解除法律保留',
    'Put on legal hold': '设置法律保留',
    'Retention: archived cases are anonymised this many years after archiving (empty: %(n)d years), '
    'unless on legal hold.': '保存期限：案件归档满该年数后匿名化（不填则为 %(n)d 年），设置法律保留的除外。',
    'Retention (years)': '保存期限（年）',
    # full ID number
    'Why do you need the full number?': '为什么需要查看完整号码？',
    'At most 200 characters.': '最多 200 个字。',
    'Full ID number': '完整身份证号',
    'Shown this once and recorded in the audit log. Do not copy it elsewhere.':
        '仅显示这一次，并已记入审计日志。请勿转抄他处。',
    'The number is masked as %(masked)s. Showing it in full is recorded in the audit log with your reason.':
        '该号码已遮蔽为 %(masked)s。查看完整号码将连同您填写的原因记入审计日志。',
    'Show the full number': '查看完整号码',
    'Show in full': '查看完整号码',
    '%(n)d ID numbers re-encrypted.': '已重新加密 %(n)d 个身份证号。',
    # sessions and passwords
    'Your session has ended: log in again to go on saving. What was saved before is kept in your drafts.':
        '登录已失效：请重新登录后继续保存。此前已保存的内容在“我的草稿”中。',
    'You were logged out after %(n)d minutes without activity. Please log in again.':
        '您已 %(n)d 分钟未操作，已自动退出。请重新登录。',
    'What you typed has been kept in your drafts.': '您填写的内容已保存到“我的草稿”。',
    'The password must not contain the username.': '密码不能包含用户名。',
}
