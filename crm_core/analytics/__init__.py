from crm_core.analytics.counts import (
    RecordCounts,
    activity_by_customer,
    message_counts,
    messages_by_direction,
    record_counts,
)
from crm_core.analytics.service import (
    AiModelCount,
    ConversationRatio,
    ai_emails_by_model,
    ai_emails_page,
    response_ratio_page,
    response_ratios,
    top_customers_by_revenue,
    top_customers_page,
)
from crm_core.analytics.trends import MonthTrend, monthly_trends

__all__ = [
    "AiModelCount",
    "ConversationRatio",
    "MonthTrend",
    "RecordCounts",
    "activity_by_customer",
    "ai_emails_by_model",
    "ai_emails_page",
    "message_counts",
    "messages_by_direction",
    "monthly_trends",
    "record_counts",
    "response_ratio_page",
    "response_ratios",
    "top_customers_by_revenue",
    "top_customers_page",
]
