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

__all__ = [
    "AiModelCount",
    "ConversationRatio",
    "ai_emails_by_model",
    "ai_emails_page",
    "response_ratio_page",
    "response_ratios",
    "top_customers_by_revenue",
    "top_customers_page",
]
