from crm_core.bookings.listing import count_bookings, list_bookings
from crm_core.bookings.service import cancel_booking, complete_booking, create_booking, get_booking

__all__ = [
    "cancel_booking",
    "complete_booking",
    "count_bookings",
    "create_booking",
    "get_booking",
    "list_bookings",
]
