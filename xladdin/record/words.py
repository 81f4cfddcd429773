"""The record's vocabulary: the status texts and audit actions it stores, shown as they are in the master.

They are Chinese first with English beside, because the audit log and the
master's 提交, 来源状态 and 日志 columns show the stored text itself.
"""

from __future__ import annotations

# a submission's standing (submissions.status) and how 提交 shows it
ACCEPTED, REJECTED, SUPERSEDED, WITHDRAWN = "accepted", "rejected", "superseded", "withdrawn"
SUB_ACCEPTED = "已接受 accepted"
SUB_REJECTED = "已拒绝 rejected"
SUB_SUPERSEDED = "已替代 superseded"
SUB_WITHDRAWN = "已撤回 withdrawn"
SUB_MISSING = "源文件缺失 missing"
SUB_SAME_CONTENT = "内容相同 same content"   # a file whose bytes another file (named in 说明) carries
STATUS_SHOWN = {ACCEPTED: SUB_ACCEPTED, REJECTED: SUB_REJECTED, SUPERSEDED: SUB_SUPERSEDED, WITHDRAWN: SUB_WITHDRAWN}

# where a result row's values come from (results.source_status)
SOURCE_PRESENT = "有效 present"
SOURCE_MISSING = "源文件缺失 source missing"
SOURCE_DROPPED = "不在最新提交 not in latest file"

REVIEW = "待复核 review"

# audit actions
LOG_SUBMISSION = "提交 submission"
LOG_UPDATE = "更新 update"
LOG_REVIEW = "待复核 review"
LOG_SOURCE = "来源状态 source status"
LOG_FINAL = "最终等级 final grade"
LOG_INTEGRITY = "日志完整性 log integrity"
LOG_ACCEPT_OLDER = "接受旧版本 accept older"
LOG_DECISION = "HR决定 decision"
LOG_INCOMPLETE = "数据不完整 incomplete"
LOG_ARCHIVE = "归档 archive"
LOG_DISCARD = "舍弃外来内容 discard foreign"

# which cells of the master a decision is about (decisions.sheet)
DECISION_SUMMARY = "summary"
DECISION_APPEALS = "appeals"
DECISION_ANNUAL = "annual"
DECISION_SETTINGS = "settings"

# period states, in order
PERIOD_STATES = ("open", "scored", "calibrated", "published", "closed")
