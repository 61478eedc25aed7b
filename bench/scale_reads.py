"""Every read the Python API and the ``crm`` command offer, as bench/scale.py runs them.

Each read picks its customer, conversation or message from the dataset of
bench/dataset.py by a random index, so successive samples touch different rows.
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from sqlalchemy.orm import Session

from bench import dataset
from crm_core import services
from crm_core.analytics import ai_emails_page, response_ratio_page, top_customers_page
from crm_core.bookings.service import get_booking
from crm_core.conversations import customer_conversation_page
from crm_core.leads import customer_leads_page
from crm_core.leads.service import get_lead
from crm_core.quotes.service import get_quote

Read = Callable[[Session, Random, int], object]


def _customer(rng: Random, n: int) -> int:
    return rng.randrange(n)


def _with_conversation(rng: Random, n: int) -> int:
    """A customer that has a conversation: conversation k belongs to customer 7k mod n."""
    return (rng.randrange(n) * 7) % n


def _customer_get(session: Session, rng: Random, n: int) -> object:
    """What ``crm customer get`` reads: the customer, its newest leads and conversations."""
    customer = services.get_customer_by_email(
        session, dataset.customer_email(_with_conversation(rng, n))
    )
    assert customer is not None
    return (
        customer_leads_page(session, customer.id),
        customer_conversation_page(session, customer.id),
    )


def _second_page(session: Session, rng: Random, n: int) -> object:
    first = services.customer_page(session, status="active", limit=50)
    return services.customer_page(session, status="active", limit=50, after=first.next_after)


API_READS: dict[str, Read] = {
    "customer list (active, 50)": lambda s, r, n: services.customer_page(s, status="active"),
    "customer list (inactive, 50)": lambda s, r, n: services.customer_page(s, status="inactive"),
    "customer list (tag vip, 50)": lambda s, r, n: services.customer_page(
        s, status="active", tags=["vip"]
    ),
    "customer list (any of vip/erhverv, 50)": lambda s, r, n: services.customer_page(
        s, status="active", tags=["vip", "erhverv"], match="any"
    ),
    "customer list (all statuses, 50)": lambda s, r, n: services.customer_page(s),
    "customer list (pages 1 and 2)": _second_page,
    "customer by email": lambda s, r, n: services.get_customer_by_email(
        s, dataset.customer_email(_customer(r, n)).upper()
    ),
    "customer by id": lambda s, r, n: services.get_customer_by_id(
        s, dataset.customer_id(_customer(r, n))
    ),
    "customer get (customer, leads, conversations)": _customer_get,
    "conversations of a customer": lambda s, r, n: services.get_customer_conversations(
        s, dataset.customer_id(_with_conversation(r, n))
    ),
    "conversation by thread id": lambda s, r, n: services.get_conversation_by_gmail_thread_id(
        s, dataset.thread_id(r.randrange(n)), dataset.MAILBOX
    ),
    "conversation by thread id (any mailbox)": lambda s, r, n: (
        services.get_conversation_by_gmail_thread_id(s, dataset.thread_id(r.randrange(n)))
    ),
    "messages of a conversation": lambda s, r, n: services.get_conversation_messages(
        s, dataset.conversation_id(r.randrange(n))
    ),
    "message by gmail id": lambda s, r, n: services.get_email_message_by_gmail_id(
        s, dataset.message_gmail_id(r.randrange(2 * n)), dataset.MAILBOX
    ),
    "lead by id": lambda s, r, n: get_lead(s, dataset.row_id("l", r.randrange(n * 3 // 10))),
    "leads of a customer": lambda s, r, n: customer_leads_page(
        s, dataset.customer_id((r.randrange(n * 3 // 10) * 3) % n)
    ),
    "quote by id": lambda s, r, n: get_quote(s, dataset.row_id("q", r.randrange(n * 15 // 100))),
    "booking by id": lambda s, r, n: get_booking(s, dataset.row_id("b", r.randrange(n * 8 // 100))),
    "report top customers (10)": lambda s, r, n: top_customers_page(s),
    "report response ratios (default)": lambda s, r, n: response_ratio_page(s),
    "report response ratios (one customer)": lambda s, r, n: response_ratio_page(
        s, customer_id=dataset.customer_id(_with_conversation(r, n))
    ),
    "report AI emails by model": lambda s, r, n: ai_emails_page(s),
}


def cli_commands(n: int) -> dict[str, list[str]]:
    """The ``crm`` commands timed as a user runs them (arguments after ``crm``)."""
    customer = (n // 2 * 7) % n
    return {
        "crm --help": ["--help"],
        "crm customer list": ["customer", "list"],
        "crm customer list --tag vip": ["customer", "list", "--tag", "vip"],
        "crm customer list inactive": ["customer", "list", "inactive"],
        "crm customer get EMAIL": ["customer", "get", dataset.customer_email(customer)],
        "crm customer get ID": ["customer", "get", dataset.customer_id(customer)],
        "crm customer conversations ID": [
            "customer",
            "conversations",
            dataset.customer_id(customer),
        ],
        "crm report top-customers": ["report", "top-customers"],
        "crm report response-ratio": ["report", "response-ratio"],
        "crm report ai-emails": ["report", "ai-emails"],
    }
