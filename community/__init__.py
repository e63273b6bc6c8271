"""Estates, engineers, steward binding, residency, and the estate community: service orders,
reviews, complaints, likes, engineer rankings and KPIs."""

# The API is split by area (see core.register_blueprints).
API_MODULES = ("api", "admin_api", "orders_api", "stats_api", "feed_api")
VIEW_MODULES = ("views", "order_views", "feed_views")


def _register_push_handlers() -> None:
    # WeChat pushes image-check verdicts to core's push endpoint; the feed decides what they mean.
    from core.wechat import push

    def media_verdict(event: dict) -> None:
        from community import feed
        feed.on_media_verdict(event)

    push.on("wxa_media_check", media_verdict)


_register_push_handlers()
