"""The one table of cross-feature events and queries.

Dependencies point one way: core ← points ← community ← ambassador. When a lower package must
react to something a higher one cares about, or ask it a question, it goes through a signal
defined here (blinker, which Flask depends on). Each feature connects its receivers in its
`init_app(app)`, which `create_app` calls once per feature: never as a side effect of an import.

- Events say that something happened. They are sent inside the transaction that did it, and
  receivers act in that same transaction (they flush; the sender's caller commits once), so an
  event and its consequences land or roll back together.
- Queries ask what only a higher feature knows. `ask()` returns the one answer, or a default when
  no feature answers (the feature is not installed).

Every signal is listed here with its keyword arguments and who answers or listens, so a newcomer
finds each cross-feature rule in one hop.
"""
from __future__ import annotations

from blinker import Namespace, Signal

_signals = Namespace()

# -- events -------------------------------------------------------------------------------------

service_completed = _signals.signal("service-completed", doc="""\
A resident's service order was completed: by its engineer on the platform, or received completed
from the service system's live integration (not imported history).
kwargs: resident_id (int), order_id (int).
Sent by community.orders; received by ambassador.referrals (the inviter's first-real-service reward)
and community.care (the care item the order booked is done).""")

service_cancelled = _signals.signal("service-cancelled", doc="""\
A service order was cancelled (by its resident, its engineer, an agent or an admin).
kwargs: order_id (int).
Sent by community.orders; received by community.care (a booked care item is open again).""")

phone_confirmed = _signals.signal("phone-confirmed", doc="""\
WeChat confirmed a user's phone number (the getPhoneNumber button), which is now the user's.
kwargs: user_id (int), phone (str).
Sent by core.accounts.services.confirm_phone; received by community.products (appliances recorded
under that phone before the user had an account become theirs).""")

points_released = _signals.signal("points-released", doc="""\
A pending grant became spendable points (its refund window passed).
kwargs: user_id (int), kind (earning rule kind), amount (int), key (the grant's idempotency key).
Sent by points.services.release_pending; received by ambassador.orders (contribution follows the
released points of orders).""")

wechat_event = _signals.signal("wechat-event", doc="""\
WeChat pushed an event to /wechat/push (its signature checked, decrypted in security mode).
sender: the event type (`Event`, else `MsgType`, e.g. "wxa_media_check"); kwargs: event (dict).
Receivers connect for their type: community.feed (asynchronous image-check verdicts).""")

# -- queries ------------------------------------------------------------------------------------

announce_refusal = _signals.signal("announce-refusal", doc="""\
May this user post an announcement in this estate's feed? (Staff may, always; the feed decides that.)
kwargs: user_id (int), estate_id (int). Answer: None when they may, else the APIError to raise.
Answered by ambassador.access (the level's `announce` permission and the estates the ambassador
serves). Without an answer only staff announce.""")

ambassador_level = _signals.signal("ambassador-level", doc="""\
The level position of a user as an active ambassador (1 is the entry level), or None when they are
not one: for rewards offered to a level and above (points), and the ambassador badge beside a name
in the estate feed (community.feed).
kwargs: user_id (int). Answer: the position, or None.
Answered by ambassador.access.""")


def ask(query: Signal, default=None, **kwargs):
    """The answer of the feature that answers `query`, or `default` when none is connected."""
    answers = query.send(None, **kwargs)
    return answers[0][1] if answers else default
