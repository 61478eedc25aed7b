from crm_core.analytics.service import (
    AiModelCount,
    ConversationRatio,
    ai_emails_by_model,
    response_ratios,
    top_customers_by_revenue,
)

__all__ = [
    "AiModelCount",
    "ConversationRatio",
    "ai_emails_by_model",
    "response_ratios",
    "top_customers_by_revenue",
]
