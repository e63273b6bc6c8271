"""The one table of cross-feature events and queries.

Dependencies point one way: core ← points ← community ← ambassador ← activation. When a lower package must
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

review_written = _signals.signal("review-written", doc="""\
A resident reviewed a completed service order (the one review of it, just saved).
kwargs: review_id (int), resident_id (int), order_id (int), estate_id (int).
Sent by community.orders.services.review; received by activation.coupons (the review coupon: the
same coupon whatever the rating, as the rules on online reviews require).""")

steward_bound = _signals.signal("steward-bound", doc="""\
A resident got a steward by scanning an engineer's binding code (a new binding, or a takeover).
kwargs: resident_id (int), engineer_id (int), estate_id (int), first (bool: the resident never had a
steward before). Sent by community.stewards.services.bind; received by activation.coupons (the
first-binding coupon, when `first`).""")

binding_recorded = _signals.signal("binding-recorded", doc="""\
A binding call finished with the resident bound to the code's engineer (a new binding, a takeover,
or a repeated call of the same binding, which may have added the rating and its points).
kwargs: binding_id, resident_id, engineer_id, estate_id (int), result (created | switched |
unchanged), visit_ref (str | None: the code's work-order number), latitude, longitude (float |
None: where the client said it was), points_key (str | None: the key of the pending binding points
promised by this call). Sent by community.stewards.services.bind; received by community.trust
(through community.init_app: the binding is watched for a sign of life and checked for flags).""")

coverage_added = _signals.signal("coverage-added", doc="""\
Engineers began to cover estates (an admin's edit, the engineers CSV import).
kwargs: engineer_ids (list[int]). Sent by community.estates.services; received by community.stats
(through community.init_app: the new coverage rows take the engineer's ranking key in the estate,
which a record made before the coverage already fixes).""")

user_active = _signals.signal("user-active", doc="""\
A user opened a session: a WeChat login, or the first bearer-token request of an Asia/Shanghai day.
kwargs: user_id (int). Sent by core.accounts.services (login_with_wechat, token_grant at
most once a day per user); received by community.trust (a session on another day than the binding
is a sign of life).""")

product_registered = _signals.signal("product-registered", doc="""\
An appliance was put on a household's record for the first time (not a repeat, not a conflict).
kwargs: product_id (int), owner_id (int | None), source (resident | engineer | integration | import).
Sent by community.products.services.register_product; received by community.trust (through
community.init_app: a product the resident or the manufacturer registered is a sign of life).""")

estate_profiles_changed = _signals.signal("estate-profiles-changed", doc="""\
What targeting rules read of some estates changed: their figures were refreshed, or their tags
were edited (one by one, or by the CSV import).
kwargs: estate_ids (list[int], or None: every estate, after the daily refresh), keys (the rule
keys whose answers may have changed: community.profiles.TAG_RULE_KEYS or FIGURE_RULE_KEYS).
Sent by community.profiles; received by activation.offers (live offers are matched again: for
these estates only, or wholly after the daily refresh).""")

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

coupon_for_order = _signals.signal("coupon-for-order", doc="""\
A resident names one of their coupons on a new service request: hold it for the order.
kwargs: user_id (int), coupon_id (int), order_id (int, just flushed), service_type (str), estate_id (int).
Answer: None when the coupon is now locked to the order (in the caller's transaction), else the
APIError to raise (404 not theirs, 409 not usable now, 422 on coupon_id: not for this service).
Answered by activation.coupons; the order's `service_completed` uses the coupon and its
`service_cancelled` releases it. Without an answer a request naming a coupon is refused.""")

coupon_offered = _signals.signal("coupon-offered", doc="""\
Where may a resident claim this coupon template (领券)? It must be offered in their estate now.
kwargs: template_id (int), estate_ids (list[int]: the resident's estates).
Answer: one of those estates (the lowest id) where a live offer of the template matches, or None.
Asked by activation.coupons (which sits below activation.offers in the feature's areas, so it
asks rather than imports); answered by activation.offers (connected in activation.init_app).
Without an answer nothing is claimable.""")

reward_offered = _signals.signal("reward-offered", doc="""\
May this resident redeem a reward marked `offer_only`? Only where a live offer of it matches one
of the estates they live in.
kwargs: user_id (int), and either reward_id (int) — Answer: True when it is offered to them now —
or reward_ids (list[int]) — Answer: the set of those offered to them now (one query for a list).
Asked by points.services.redeem (one reward) and points.services.rewards_for (the catalogue hides
the offer-only rewards not offered to the resident); answered by activation.offers. Without an
answer an offer-only reward is redeemable by nobody and listed to nobody.""")

partner_known = _signals.signal("partner-known", doc="""\
Is this the code of an approved ecosystem partner? (The order integration names the partner whose
service was ordered: `partner_code`.)
kwargs: code (str). Answer: True when an approved partner has that code.
Asked by ambassador.orders when a paid order names a partner; answered by activation.partners.
Without an answer no code is known, and an order naming one is refused.""")

visit_ref_refusal = _signals.signal("visit-ref-refusal", doc="""\
May an engineer mint a binding code naming this work-order number (`visit_ref`)?
kwargs: engineer_id (int), visit_ref (str). Answer: None when they may, else the APIError to raise
(the order integration knows this engineer's orders and none has that number).
Asked by community.stewards.services.mint_binding_code; answered by community.trust (through
community.init_app). Without an answer any number is accepted.""")


work_waiting = _signals.signal("work-waiting", doc="""\
What work is waiting for the staff of the console's dashboard (待办)? Every feature answers.
kwargs: who (core.accounts.services.Principal: the admin or agent looking).
Answer: a list of core.pages.WorkQueue (label, count, url) for the queues that actor may work,
each count read from an index (a pending status), never a scan. Collected with `collect()` by the
dashboard; answered by points (redemptions), community (complaints, held posts, flagged
bindings, handovers), ambassador (applications, task submissions).""")

def ask(query: Signal, default=None, **kwargs):
    """The answer of the feature that answers `query`, or `default` when none is connected."""
    answers = query.send(None, **kwargs)
    return answers[0][1] if answers else default


def collect(query: Signal, **kwargs) -> list:
    """Every connected feature's answer to `query`, flattened (for queries all features answer)."""
    return [item for _receiver, answer in query.send(None, **kwargs) for item in (answer or [])]
