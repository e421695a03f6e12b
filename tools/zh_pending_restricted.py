ZH = {
    'Why do you open this restricted case?': '为什么要打开这个限制访问的案件？',
    'Who may see the case besides its mediators': '除本案调解员外，可查看本案的人员',
    'Only the users named here, the case\'s mediators and you will see the case; each opening asks for a reason and is recorded in the audit log.': '只有这里列出的人员、本案调解员和您本人能看到此案；每次打开都须说明理由并记入审计日志。',
    'Restricted case': '限制访问案件',
    'Access to this case is restricted. Opening it is recorded in the audit log with your reason.': '此案件限制访问。打开案件将连同您的理由记入审计日志。',
    'Open the case': '打开案件',
    'Restrict access': '限制访问',
    'Lift the restriction': '解除限制访问',
    'Restricted case opened': '打开限制访问案件',
    'Named users': '指定人员',
    'restricted': '限制访问',
}
