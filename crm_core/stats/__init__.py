from crm_core.stats.recompute_all import recompute_all_stats
from crm_core.stats.service import (
    owner_of,
    refresh_owner_of,
    update_customer_stats,
    update_customers_stats,
)

__all__ = [
    "owner_of",
    "recompute_all_stats",
    "refresh_owner_of",
    "update_customer_stats",
    "update_customers_stats",
]
