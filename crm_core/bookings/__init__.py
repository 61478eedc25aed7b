from crm_core.bookings.service import cancel_booking, complete_booking, create_booking, get_booking

__all__ = ["cancel_booking", "complete_booking", "create_booking", "get_booking"]
