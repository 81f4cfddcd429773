"""What each cell of a team workbook is called in findings (中文, English): one table for every check."""

FIELD_NAMES: dict[str, tuple[str, str]] = {
    "weight_sum": ("权重合计", "weight sum"),
    "weight": ("权重", "weight"),
    "floor": ("底线值", "floor"),
    "target": ("目标值", "target"),
    "challenge": ("挑战值", "challenge"),
    "score": ("指标得分", "indicator score"),
    "weighted": ("加权得分", "weighted score"),
    "bonus": ("加分", "bonus"),
    "total": ("总分", "total"),
    "grade": ("等级", "grade"),
    "coefficient": ("绩效系数", "pay coefficient"),
    "rank": ("排名", "rank"),
    "actual": ("实际值", "actual value"),
    "self_rating": ("自评", "self rating"),
    "manager": ("上级评分", "manager rating"),
    "commendations": ("表彰次数", "commendations"),
    "veto": ("一票否决", "veto"),
}
