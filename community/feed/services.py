"""The estate feed: residents post questions, reviews and photo shares; the estate's engineers and
agents answer questions, the asker accepts an answer; residents and engineers comment and like;
a resident shares their review of a service order to the order's estate, once.
Text goes through WeChat content security: `risky` is refused, `review` holds the content for a
moderator; admins hide and restore with a reason. When WeChat gives no verdict (no openid, the
author not in the mini-program for two hours, WeChat down), a resident's content is held, while
staff content (engineers, agents, admins: named and accountable) is published as `unchecked`
and recorded in the audit log. Every item keeps what its author was when writing
(`author_badge`), shown beside the author's name.

Who belongs to an estate's community: its active residents, the engineers covering it, agents
and admins. Only they read, post, comment and like there.
"""
from __future__ import annotations

import functools

import sqlalchemy as sa

from community.estates.models import Engineer, EngineerEstate, Estate, Residency
from community.feed.models import POST_KINDS, Answer, Comment, MediaCheck, Post, PostLike
from community.orders import services as orders
from core import audit, signals
from core.accounts import services as accounts
from core.accounts.models import User
from core.accounts.services import Principal
from core.db import insert_or_nothing, utcnow
from core.errors import APIError, Conflict, Forbidden, NotFound, invalid
from core.extensions import db
from core.formatting import absolute_url
from core.pagination import Page, decode_cursor, encode_cursor, paginate
from core.uploads import services as uploads
from core.wechat import gateway

KIND_LABELS = {"question": "提问", "review": "服务评价", "photo": "晒图", "announcement": "小区公告"}
# What an author was when writing, shown beside their name (None: a resident, "邻居" when unnamed).
BADGE_LABELS = {"engineer": "工程师", "agent": "客服", "admin": "管理员", "ambassador": "服务代言人"}
# Named, accountable staff: their content is published when WeChat cannot check it (audited).
STAFF_AUTHORS = ("engineer", "agent", "admin")
# What the author of a post, answer or comment is told about it.
STATUS_LABELS = {"published": "已发布", "held": "已提交，审核通过后显示", "hidden": "已隐藏"}


MAX_PHOTOS = 9


# Every feed read runs this first, so it is built once (bound parameters per call).
_r, _g, _c, _es = Residency.__table__.c, Engineer.__table__.c, EngineerEstate.__table__.c, Estate.__table__.c
_MEMBERSHIP = sa.select(
    _es.id,
    sa.exists().where(_r.user_id == sa.bindparam("user_id"), _r.estate_id == _es.id, _r.left_at.is_(None))
    .label("lives"),
    sa.exists().where(_c.estate_id == _es.id, _c.engineer_id == _g.id, _g.user_id == sa.bindparam("user_id"),
                      _g.status == "active").label("covers"),
).where(_es.id == sa.bindparam("estate_id"))


def _membership(who: Principal, estate_id: int):
    """(estate exists, lives there, covers it as an active engineer) in one statement."""
    return db.session.execute(_MEMBERSHIP, {"user_id": who.id, "estate_id": estate_id}).first()


def _role(who: Principal, row) -> str | None:
    if who.has_role("admin", "agent"):
        return "staff"
    if row.covers and who.has_role("engineer"):
        return "engineer"
    return "resident" if row.lives else None


def role_in(who: Principal, estate_id: int) -> str | None:
    """'staff' (agent, admin), 'engineer' (covers the estate), 'resident', or None (outsider)."""
    row = _membership(who, estate_id)
    return _role(who, row) if row is not None else None


def require_member(who: Principal, estate_id: int) -> str:
    row = _membership(who, estate_id)
    if row is None:
        raise NotFound("小区不存在", code="estate_not_found")
    role = _role(who, row)
    if role is None:
        raise Forbidden("只有该小区的住户、服务该小区的工程师和客服可以参与", code="not_estate_member")
    return role


def author_badge(who: Principal) -> str | None:
    """What the author is as they write, shown beside their name: engineer, admin, agent (the
    first their roles hold), else ambassador (an active one: core.signals.ambassador_level),
    else None (a resident). A staff role wins over the ambassador badge: it names an employee
    who answers for the text; engineer comes first because that is who residents book."""
    for role in ("engineer", "admin", "agent"):
        if who.has_role(role):
            return role
    if signals.ask(signals.ambassador_level, user_id=who.id) is not None:
        return "ambassador"
    return None


def _screen(who: Principal, text: str, *, scene: int) -> tuple[str, str | None]:
    """The content-security verdict for text and, for `unchecked`, why: `risky` is refused here;
    `pass` publishes, `review` holds for a moderator. Without a verdict from WeChat a resident's
    text is held (`review`); a staff author's is `unchecked`: published, and audited by the caller
    (`_audit_unchecked`). Staff text WeChat can check is checked like anyone's."""
    suggest, why = gateway.text_check(text, accounts.openid_of(who.id), scene=scene)
    if suggest == "risky":
        raise Conflict("内容包含违规信息，无法发布，请修改后再试", code="content_risky")
    if suggest is not None:
        return suggest, None
    return ("unchecked" if who.has_role(*STAFF_AUTHORS) else "review"), why


def _status(verdict: str) -> str:
    return "held" if verdict == "review" else "published"


def _audit_unchecked(who: Principal, kind: str, item, why: str | None) -> None:
    """Staff content published without a WeChat verdict: on the record, with why."""
    if item.security_verdict == "unchecked":
        audit.record(who, f"feed.{kind}.publish_unchecked", kind, item.id,
                     after={"status": item.status, "security_verdict": "unchecked", "why": why})


def _may_announce(who: Principal, role: str, estate_id: int) -> None:
    """Estate announcements: staff, or whoever the ambassador feature allows (an ambassador whose
    level has the `announce` permission and who serves this estate: core.signals.announce_refusal)."""
    if role == "staff":
        return
    refusal = signals.ask(signals.announce_refusal, user_id=who.id, estate_id=estate_id,
                          default=Forbidden("只有客服和管理员可以发布小区公告"))
    if refusal is not None:
        raise refusal


def create_post(who: Principal, estate_id: int, kind: str, text: str, photo_ids=None) -> Post:
    role = require_member(who, estate_id)
    if kind not in POST_KINDS:
        raise invalid("kind", f"类型须为：{'、'.join(POST_KINDS)}")
    if kind == "announcement":
        _may_announce(who, role, estate_id)
    text = (text or "").strip()
    photos = uploads.require_own_photos(who.id, photo_ids, field="photo_ids", most=MAX_PHOTOS)
    if kind == "photo" and not photos:
        raise invalid("photo_ids", "晒图至少要有一张照片")
    if kind != "photo" and not text:
        raise invalid("text", "请填写内容")
    if len(text) > 2000:
        raise invalid("text", "内容不能超过 2000 字")
    badge = author_badge(who)
    verdict, why = _screen(who, text, scene=3)
    post = Post(estate_id=estate_id, author_id=who.id, author_badge=badge, kind=kind, text=text, photos=photos,
                status=_status(verdict), security_verdict=verdict)
    db.session.add(post)
    db.session.flush()
    return _finish_post(post, who, why)


def _finish_post(post: Post, who: Principal, why: str | None) -> Post:
    """A new post's photo checks, its audit when unchecked, its author's name for the response."""
    if post.photos:
        why = _check_photos(post, who) or why
    _audit_unchecked(who, "post", post, why)
    return _named(post)


def _check_photos(post: Post, who: Principal) -> str | None:
    """Send each photo to WeChat's asynchronous image check. The post stays as its text verdict
    made it; a pushed `risky` verdict takes it down, `review` holds it (on_media_verdict). A photo
    WeChat cannot be asked about holds a resident's post for a human, as text without a verdict
    does; a staff post stays as it is, `unchecked`. Returns why a photo went unchecked, or None."""
    openid = accounts.openid_of(who.id)
    why = None
    for name in post.photos:
        try:
            if openid is None:
                raise APIError("作者没有微信身份，无法送审", code="no_openid")
            trace_id = gateway.media_check_async(absolute_url("uploads.image", name=name), openid, scene=3)
        except APIError as exc:
            why = "no_openid" if openid is None else f"{exc.code}({exc.details.get('errcode')})"
            if who.has_role(*STAFF_AUTHORS):
                if post.security_verdict == "pass":
                    post.security_verdict = "unchecked"
            elif post.status == "published":
                post.status, post.security_verdict = "held", "review"
            continue
        db.session.add(MediaCheck(trace_id=trace_id, post_id=post.id, upload_name=name))
    db.session.flush()
    return why


def share_review(order_id: int, who: Principal) -> tuple[Post, bool]:
    """The author of an order's review shares it to the order's estate feed, once: a `review`
    post with the review's text and photos, screened as any post. Sharing again returns the same
    post (created False). The author must still live in the estate."""
    review = orders.review_of(order_id)
    if review is None or review.resident_id != who.id:
        raise NotFound("评价不存在", code="review_not_found")
    shared = db.session.scalar(sa.select(Post).where(Post.review_id == review.id))
    if shared is not None:
        return _named(shared), False
    row = _membership(who, review.estate_id)
    if row is None or not row.lives:
        raise Forbidden("您已不在该小区居住，不能分享到该小区动态", code="not_estate_resident")
    text, photos = (review.text or "").strip(), list(review.photos or [])
    if not text and not photos:
        raise Conflict("这条评价没有文字或照片，无法分享", code="review_empty")
    badge = author_badge(who)
    verdict, why = _screen(who, text, scene=3)
    post = insert_or_nothing(Post, dict(estate_id=review.estate_id, author_id=who.id, author_badge=badge,
                                        kind="review", text=text, photos=photos, status=_status(verdict),
                                        security_verdict=verdict, review_id=review.id), conflict=["review_id"])
    if post is None:  # a concurrent share of the same review went first
        return _named(db.session.scalars(sa.select(Post).where(Post.review_id == review.id)).one()), False
    return _finish_post(post, who, why), True


def review_share(order_id: int, who: Principal) -> Post | None:
    """The post sharing the caller's review of this order, or None when not shared yet (the
    order page offers the share only then). Not the review's author: 404, as for sharing."""
    review = orders.review_of(order_id)
    if review is None or review.resident_id != who.id:
        raise NotFound("评价不存在", code="review_not_found")
    shared = db.session.scalar(sa.select(Post).where(Post.review_id == review.id))
    return _named(shared) if shared is not None else None


def on_media_verdict(event: dict) -> None:
    """A pushed `wxa_media_check` event: record the verdict; `risky` takes the post down,
    `review` holds a published post for a moderator. Unknown trace ids are ignored."""
    check = db.session.get(MediaCheck, str(event.get("trace_id") or ""))
    if check is None or check.verdict is not None:
        return  # not ours, or a repeated push (WeChat retries)
    result = event.get("result") or {}
    suggest = result.get("suggest") if isinstance(result, dict) else None
    if suggest not in ("pass", "review", "risky"):  # the v1 shape: isrisky 0/1
        suggest = "risky" if event.get("isrisky") == 1 else "pass"
    check.verdict, check.decided_at = suggest, utcnow()
    post = db.session.scalars(sa.select(Post).where(Post.id == check.post_id).with_for_update()).one()
    if suggest == "risky" and post.status != "hidden":
        before = post.status
        post.status, post.moderation_reason, post.moderated_at = "hidden", "图片未通过微信内容安全检测", utcnow()
        audit.record(None, "feed.post.hide", "post", post.id, before={"status": before},
                     after={"status": "hidden", "reason": "wxa_media_check risky", "trace_id": check.trace_id})
    elif suggest == "review" and post.status == "published":
        post.status, post.security_verdict = "held", "review"
    db.session.flush()


def get_post(post_id: int, *, lock: bool = False) -> Post:
    stmt = sa.select(Post).where(Post.id == post_id)
    if lock:
        stmt = stmt.with_for_update()
    post = db.session.scalars(stmt).first()
    if post is None:
        raise NotFound("帖子不存在", code="post_not_found")
    return post


def visible_post(post_id: int, who: Principal) -> tuple[Post, str]:
    """A post and the caller's role in its estate, for members of the estate's community: its
    published posts, or any post of theirs, or any post for staff. Anyone else gets 404."""
    post = get_post(post_id)
    role = role_in(who, post.estate_id)
    if role is None or (post.status != "published" and post.author_id != who.id and role != "staff"):
        raise NotFound("帖子不存在", code="post_not_found")
    return post, role


def answer(post_id: int, who: Principal, text: str) -> Answer:
    """Engineers covering the estate, agents and admins answer questions."""
    post, role = visible_post(post_id, who)
    if post.kind != "question":
        raise Conflict("只能回答提问", code="not_a_question")
    if role not in ("engineer", "staff"):
        raise Forbidden("只有服务该小区的工程师和客服可以回答", code="cannot_answer")
    if post.status != "published":
        raise Conflict("该提问尚未公开，暂不能回答", code="post_not_published")
    text = (text or "").strip()
    if not text or len(text) > 2000:
        raise invalid("text", "回答须为 1–2000 字")
    badge = author_badge(who)
    verdict, why = _screen(who, text, scene=2)
    item = Answer(post_id=post.id, author_id=who.id, author_badge=badge, text=text, status=_status(verdict),
                  security_verdict=verdict)
    db.session.add(item)
    db.session.flush()
    if item.status == "published":
        _bump(post.id, answers_count=1)
    _audit_unchecked(who, "answer", item, why)
    return _named(item)


def accept_answer(answer_id: int, who: User) -> Answer:
    """The asker accepts one published answer of their question (they may change their mind)."""
    item = db.session.get(Answer, answer_id)
    if item is None or item.status != "published":
        raise NotFound("回答不存在", code="answer_not_found")
    post = get_post(item.post_id, lock=True)
    if post.author_id != who.id:
        raise Forbidden("只有提问者可以采纳回答", code="not_the_asker")
    if post.accepted_answer_id == item.id:
        return _named(item)
    if post.accepted_answer_id is not None:
        db.session.execute(sa.update(Answer).where(Answer.id == post.accepted_answer_id).values(accepted=False))
    item.accepted = True
    post.accepted_answer_id = item.id
    db.session.flush()
    return _named(item)


def comment(post_id: int, who: Principal, text: str) -> Comment:
    post, role = visible_post(post_id, who)
    if post.status != "published":
        raise Conflict("该帖子尚未公开，暂不能评论", code="post_not_published")
    text = (text or "").strip()
    if not text or len(text) > 500:
        raise invalid("text", "评论须为 1–500 字")
    badge = author_badge(who)
    verdict, why = _screen(who, text, scene=2)
    item = Comment(post_id=post.id, author_id=who.id, author_badge=badge, text=text, status=_status(verdict),
                   security_verdict=verdict)
    db.session.add(item)
    db.session.flush()
    if item.status == "published":
        _bump(post.id, comments_count=1)
    _audit_unchecked(who, "comment", item, why)
    return _named(item)


def like(post_id: int, who: Principal) -> tuple[int, bool]:
    """Like a post once (repeating is harmless); returns (likes now, created)."""
    post, _ = visible_post(post_id, who)
    created = insert_or_nothing(PostLike, {"post_id": post.id, "user_id": who.id}, conflict=["post_id", "user_id"])
    if created is not None:
        _bump(post.id, likes_count=1)
    return db.session.scalar(sa.select(Post.likes_count).where(Post.id == post.id)), created is not None


def unlike(post_id: int, who: Principal) -> tuple[int, bool]:
    """Take back one's like (repeating is harmless); returns (likes now, removed)."""
    post, _ = visible_post(post_id, who)
    removed = db.session.execute(sa.delete(PostLike).where(PostLike.post_id == post.id, PostLike.user_id == who.id)
                                 .execution_options(synchronize_session=False)).rowcount
    if removed:
        _bump(post.id, likes_count=-1)
    return db.session.scalar(sa.select(Post.likes_count).where(Post.id == post.id)), bool(removed)


def _names(user_ids) -> dict[int, tuple[str, str | None]]:
    """Each user's display name and, for an engineer, the engineer's name: one statement."""
    return {uid: (display, engineer) for uid, display, engineer in db.session.execute(
        sa.select(User.id, User.display_name, Engineer.name).outerjoin(Engineer, Engineer.user_id == User.id)
        .where(User.id.in_(set(user_ids)))).all()}


def _author_name(badge: str | None, names: tuple[str, str | None]) -> str:
    """An engineer is shown by their engineer name (as on their profile), anyone else by their
    display name (the schema falls back to the badge's label, or 邻居). The feed's statement
    makes the same choice in SQL."""
    display, engineer = names
    return (engineer or display) if badge == "engineer" else display


def _name_all(items) -> None:
    """Give each post, answer or comment its author's name (`author_name`) for the response."""
    if not items:
        return
    names = _names(item.author_id for item in items)
    for item in items:
        item.author_name = _author_name(item.author_badge, names.get(item.author_id, ("", None)))


def _named(item):
    """A new item with its author's name, for the response."""
    _name_all([item])
    return item


def _bump(post_id: int, **deltas) -> None:
    db.session.execute(sa.update(Post).where(Post.id == post_id).values(
        **{name: getattr(Post, name) + delta for name, delta in deltas.items()}).execution_options(
        synchronize_session=False))


# -- reads ------------------------------------------------------------------------------------

_p, _u, _e = Post.__table__.c, User.__table__.c, Engineer.__table__.c
# The accepted answer shown under a question in the feed, with its author (in the same statement).
_accepted, _accepted_user, _accepted_engineer = (Answer.__table__.alias("accepted"), User.__table__.alias("accepted_user"),
                                                 Engineer.__table__.alias("accepted_engineer"))
_a, _au, _ae = _accepted.c, _accepted_user.c, _accepted_engineer.c
_ACCEPTED = {"accepted_id": "id", "accepted_text": "text", "accepted_author_id": "author_id",
             "accepted_author_badge": "author_badge", "accepted_author_name": "author_name"}


def _feed_item(row) -> dict:
    """A feed row as a post with its accepted answer ({id, text, author_*}, or None)."""
    item = dict(row._mapping)
    accepted = {key: item.pop(column) for column, key in _ACCEPTED.items()}
    item["accepted_answer"] = accepted if accepted["id"] is not None else None
    return item


@functools.cache
def _feed_statement(kind: bool, unanswered: bool, after: bool) -> sa.Select:
    """The feed page's statement for one combination of filters, built once per process (a feed
    read is a hot path: building this select costs more than running it). Parameters: user_id,
    estate_id, kind, before_id (the cursor's post id), page (rows to fetch)."""
    liked = sa.exists().where(PostLike.post_id == _p.id, PostLike.user_id == sa.bindparam("user_id"))
    stmt = (sa.select(_p.id, _p.estate_id, _p.author_id, _p.author_badge, _p.kind, _p.text, _p.photos, _p.status,
                      _p.answers_count, _p.comments_count, _p.likes_count, _p.accepted_answer_id, _p.review_id,
                      _p.created_at, sa.func.coalesce(_e.name, _u.display_name).label("author_name"),
                      liked.label("liked"), _a.id.label("accepted_id"), _a.text.label("accepted_text"),
                      _a.author_id.label("accepted_author_id"), _a.author_badge.label("accepted_author_badge"),
                      sa.func.coalesce(_ae.name, _au.display_name).label("accepted_author_name"))
            .select_from(Post.__table__.join(User.__table__, _u.id == _p.author_id)
                         # an engineer author is shown by their engineer name (_author_name)
                         .outerjoin(Engineer.__table__, sa.and_(_e.user_id == _p.author_id,
                                                                _p.author_badge == "engineer"))
                         # a question's accepted answer, while it is published
                         .outerjoin(_accepted, sa.and_(_a.id == _p.accepted_answer_id, _a.status == "published"))
                         .outerjoin(_accepted_user, _au.id == _a.author_id)
                         .outerjoin(_accepted_engineer, sa.and_(_ae.user_id == _a.author_id,
                                                          _a.author_badge == "engineer")))
            .where(_p.estate_id == sa.bindparam("estate_id"),
                   sa.or_(_p.status == "published",
                          sa.and_(_p.status == "held", _p.author_id == sa.bindparam("user_id")))))
    if kind:
        stmt = stmt.where(_p.kind == sa.bindparam("kind"))
    if unanswered:
        stmt = stmt.where(_p.kind == "question", _p.status == "published", _p.answers_count == 0)
    if after:
        stmt = stmt.where(_p.id < sa.bindparam("before_id"))
    return stmt.order_by(_p.id.desc()).limit(sa.bindparam("page", type_=sa.Integer))


def feed(who: Principal, estate_id: int, *, kind: str | None = None, unanswered: bool = False, limit: int = 20,
         cursor: str | None = None) -> Page:
    """The estate's posts, newest first: published ones, plus the caller's own held ones.

    One statement for the page (author names and badges, the caller's likes, a question's accepted
    answer with its author included), after the membership check: the page size does not change
    the number of statements.
    """
    require_member(who, estate_id)
    if kind and kind not in POST_KINDS:
        raise invalid("kind", f"类型须为：{'、'.join(POST_KINDS)}")
    params = {"user_id": who.id, "estate_id": estate_id, "kind": kind, "page": limit + 1,
              "before_id": decode_cursor(cursor, 1, [int])[0] if cursor else None}
    rows = db.session.execute(_feed_statement(bool(kind), unanswered, bool(cursor)), params).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([_feed_item(row) for row in rows], encode_cursor([rows[-1].id]) if more and rows else None)


def post_detail(post_id: int, who: Principal) -> dict:
    """A post with its published answers (accepted first) and comments (the caller's held ones too)."""
    post, role = visible_post(post_id, who)
    mine_or_published = lambda model: sa.or_(model.status == "published",  # noqa: E731
                                             sa.and_(model.status == "held", model.author_id == who.id))
    answers = db.session.scalars(sa.select(Answer).where(Answer.post_id == post.id, mine_or_published(Answer))
                                 .order_by(Answer.accepted.desc(), Answer.id)).all()
    comments = db.session.scalars(sa.select(Comment).where(Comment.post_id == post.id, mine_or_published(Comment))
                                  .order_by(Comment.id).limit(200)).all()
    _name_all([post, *answers, *comments])
    liked = db.session.scalar(sa.select(sa.literal(True)).where(PostLike.post_id == post.id,
                                                                PostLike.user_id == who.id)) or False
    return {"post": post, "answers": answers, "comments": comments, "liked": liked,
            "can_answer": role in ("engineer", "staff") and post.kind == "question",
            "can_accept": post.author_id == who.id and post.kind == "question" and post.status == "published"}


def _unanswered(user_id: int) -> sa.Select:
    """Unanswered published questions in the estates an engineer covers (unordered), with the
    estate's name and the asker; `my_answer_held`: the engineer's own answer waits for a
    moderator (nobody else sees it yet)."""
    estates = sa.select(EngineerEstate.estate_id).join(Engineer, Engineer.id == EngineerEstate.engineer_id).where(
        Engineer.user_id == user_id, Engineer.status == "active")
    held = sa.exists().where(Answer.post_id == _p.id, Answer.author_id == user_id, Answer.status == "held")
    return (sa.select(_p.id, _p.estate_id, _p.author_id, _p.author_badge, _p.text, _p.photos, _p.created_at,
                      Estate.name.label("estate_name"), _u.display_name.label("author_name"),
                      held.label("my_answer_held"))
            .select_from(Post.__table__.join(Estate.__table__, Estate.id == _p.estate_id)
                         .join(User.__table__, _u.id == _p.author_id))
            .where(_p.estate_id.in_(estates), _p.kind == "question", _p.status == "published",
                   _p.answers_count == 0))


def unanswered_for_engineer(user_id: int, *, limit: int = 50) -> list[dict]:
    """The questions an engineer may answer (`_unanswered`), oldest first: the workbench page."""
    rows = db.session.execute(_unanswered(user_id).order_by(_p.id).limit(limit)).all()
    return [dict(row._mapping) for row in rows]


def unanswered_page(user_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    """The same questions, oldest first, a page at a time (the mini-program's 待回答): one statement."""
    page = paginate(_unanswered(user_id), [_p.id], limit=limit, cursor=cursor, descending=False, scalars=False)
    return Page([dict(row._mapping) for row in page.items], page.next_cursor)


# -- moderation -------------------------------------------------------------------------------

MODERATED = {"post": Post, "answer": Answer, "comment": Comment}


def moderate(kind: str, item_id: int, action: str, reason: str, actor: User):
    """An admin hides or restores a post, answer or comment, with a reason (audited)."""
    model = MODERATED.get(kind)
    if model is None:
        raise NotFound("内容不存在", code="content_not_found")
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason", "请填写原因")
    item = db.session.scalars(sa.select(model).where(model.id == item_id).with_for_update()).first()
    if item is None:
        raise NotFound("内容不存在", code="content_not_found")
    target = {"hide": "hidden", "restore": "published"}.get(action)
    if target is None:
        raise invalid("action", "操作须为 hide 或 restore")
    if item.status == target:
        raise Conflict("内容已是该状态", code="already_in_state")
    before = item.status
    item.status = target
    if model is Post:
        item.moderation_reason, item.moderated_by_id, item.moderated_at = reason[:255], actor.id, utcnow()
    else:  # the post's counters follow its published answers and comments
        counter = "answers_count" if model is Answer else "comments_count"
        if target == "published":
            _bump(item.post_id, **{counter: 1})
        elif before == "published":
            _bump(item.post_id, **{counter: -1})
    db.session.flush()
    audit.record(actor, f"feed.{kind}.{action}", kind, item.id, before={"status": before},
                 after={"status": target, "reason": reason[:255]})
    return item


MODERATION_STATUSES = ("held", "hidden", "unchecked", "published")


def moderation_queue(*, kind: str = "post", status: str = "held", limit: int = 20, cursor: str | None = None) -> Page:
    """Posts, answers or comments for moderators: `held` (waiting for a human, oldest first),
    `hidden`, `unchecked` (staff content published without a WeChat verdict) or `published`,
    newest first."""
    model = MODERATED.get(kind)
    if model is None:
        raise NotFound("内容不存在", code="content_not_found")
    if status not in MODERATION_STATUSES:
        raise invalid("status", f"状态须为：{'、'.join(MODERATION_STATUSES)}")
    stmt = sa.select(model).where(model.status == status) if status != "unchecked" else \
        sa.select(model).where(model.status == "published", model.security_verdict == "unchecked")
    page = paginate(stmt, [model.id], limit=limit, cursor=cursor, descending=status != "held")
    _name_all(page.items)
    return page


def posts_by_id(ids) -> dict[int, Post]:
    """Posts by id (the moderation page shows the question an answer or comment belongs to)."""
    ids = set(ids)
    return {p.id: p for p in db.session.scalars(sa.select(Post).where(Post.id.in_(ids)))} if ids else {}


def held_counts() -> dict[str, int]:
    """Held posts, answers and comments waiting for a moderator (the dashboard): each kind's
    index on its held rows."""
    return {kind: db.session.scalar(sa.select(sa.func.count()).select_from(model).where(model.status == "held"))
            for kind, model in MODERATED.items()}
