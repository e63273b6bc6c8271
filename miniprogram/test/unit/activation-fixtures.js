/**
 * Answers of the estate activation APIs (docs/activation.md) in the server's real shapes, recorded
 * from the Flask app (activation/{offers,coupons,activities,ecosystem}/schemas.py): an estate's
 * offers, coupon templates and my coupons, activities and my sign-up, a partner's listing, the offer
 * mutes. Builders take changes on top of a recorded answer.
 */

/**
 * The fixtures' times are around 5 December 2026 (Beijing): a test file that shows times or
 * compares them with now calls this at its top to fix Date there in each test (timers stay real).
 */
function fixClock(iso = '2026-12-05T08:00:00Z') {
  beforeEach(() => jest.useFakeTimers({ now: new Date(iso), doNotFake: ['setTimeout', 'clearTimeout', 'setInterval',
    'clearInterval', 'setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask', 'hrtime', 'performance',
    'requestAnimationFrame', 'cancelAnimationFrame', 'requestIdleCallback', 'cancelIdleCallback'] }))
  afterEach(() => jest.useRealTimers())
}

const ORGANIZER = { kind: 'admin', kind_label: '平台', name: '邻里社区' }

/** GET /api/v1/activities/{id}: a published activity in 5 days, seats left, not signed up. */
function activity(id = 1, changes = {}) {
  return {
    id, title: '社区义诊', description: '三甲医院医生到小区，免费量血压、测血糖。', photos: [], place: '会所二楼',
    starts_at: '2026-12-10T06:00:00+00:00', ends_at: '2026-12-10T08:00:00+00:00', signup_deadline: '2026-12-10T06:00:00+00:00',
    capacity: 30, confirmed: 12, waitlisted: 0, seats_left: 18, checked_in: 0, status: 'published', state: 'upcoming',
    state_label: '未开始', signup_open: true, checkin_opens_at: '2026-12-10T05:00:00+00:00', checkin_closes_at: '2026-12-10T08:00:00+00:00',
    points_reward: 20, coupon: null, organizer: ORGANIZER, cancelled_reason: null, my: null, ...changes,
  }
}

/** ActivitySignupSchema: mine, confirmed (with my attendee code) unless changed. */
function signup(activityId = 1, changes = {}) {
  return {
    id: 7, activity_id: activityId, status: 'confirmed', status_label: '已报名', code: 'UMCDAJ57', estate_id: 12,
    queue_position: null, contact_name: '', contact_phone: '13700002222', queued_at: '2026-12-05T06:48:39+00:00',
    promoted_at: null, cancelled_at: null, checked_in_at: null, rewarded_at: null, created_at: '2026-12-05T06:48:39+00:00',
    ...changes,
  }
}

const waitlisted = (activityId = 1, position = 3) => signup(activityId, {
  status: 'waitlisted', status_label: '候补中', code: null, queue_position: position })

/** CouponTemplateSchema as a resident reads it (held, can_claim). */
function template(id = 1, changes = {}) {
  return {
    id, name: '清洗立减券', description: '', kind: 'amount', kind_label: '满减券', amount_fen: 2000, percent_off: null, cap_fen: null,
    min_spend_fen: 10000, face: '满100减20', terms: ['减 20 元', '订单满 100 元可用', '限维修、清洗服务使用', '领取后 30 天内有效', '每人限领 1 张'],
    service_types: [{ code: 'repair', label: '维修' }, { code: 'cleaning', label: '清洗' }], valid_from: null, valid_until: null,
    valid_days: 30, validity: '领取后 30 天内有效', remaining: 100, per_user_limit: 1, claimable: true, partner: null,
    status: 'active', status_label: '发放中', held: 0, can_claim: true, ...changes,
  }
}

const PERCENT_TERMS = ['打8.5折，最高减 50 元', '无门槛', '全部服务类型可用', '2026-12-05 至 2026-12-25 有效', '每人限领 1 张']

/** CouponSchema: one of my coupons, available unless changed. */
function coupon(id = 1, changes = {}, terms = {}) {
  return {
    id, code: 'XYH3LET7V6FX', status: 'available', status_label: '可使用', source: 'claim', source_label: '领取',
    issued_at: '2026-12-05T06:48:39+00:00', valid_from: '2026-12-05', expires_on: '2027-01-03', usable_now: true,
    locked_order_id: null, used_at: null, discount_fen: null,
    template: {
      id: 1, name: '清洗立减券', description: '', kind: 'amount', face: '满100减20', amount_fen: 2000, percent_off: null, cap_fen: null,
      min_spend_fen: 10000, terms: ['减 20 元', '订单满 100 元可用', '限维修、清洗服务使用', '领取后 30 天内有效', '每人限领 1 张'],
      service_types: ['repair', 'cleaning'], partner: null, ...terms,
    },
    ...changes,
  }
}

const percentCoupon = (id = 2, changes = {}) => coupon(id, { code: 'SRW4KTAEMEBQ', expires_on: '2026-12-25', ...changes }, {
  id: 2, name: '保养八五折券', kind: 'percent', face: '8.5折', amount_fen: null, percent_off: 15, cap_fen: 5000, min_spend_fen: 0,
  terms: PERCENT_TERMS, service_types: [] })

const PARTNER = { id: 1, name: '洁净家政', category: '家政', description: '', logo: null }

/** OfferListingSchema / ResidentListingSchema: a partner's service with sign-up in the platform. */
function listing(id = 1, changes = {}) {
  return {
    id, kind: 'service', title: '上门深度保洁', body: '三小时全屋保洁，自带工具与清洁剂。', photos: [], price_fen: 19900, price_note: '起',
    signup_mode: 'platform', link_url: null, partner: PARTNER, ...changes,
  }
}

/** GET /api/v1/partner-listings/{id}: the listing with my estate and my sign-up. */
const residentListing = (id = 1, changes = {}) => ({ ...listing(id), estate_id: 12, my_lead: null, ...changes })

const REWARD = { id: 1, name: '电动牙刷', description: '', image_url: '', cost: 800, stock: null, per_user_limit: null, ends_at: null }

const KIND_LABELS = { coupon: '优惠券', activity: '社区活动', reward: '积分好礼', partner_service: '伙伴服务', announcement: '伙伴公告' }
const CATEGORY = { coupon: 'coupon', activity: 'activity', reward: 'reward', partner_service: 'partner', announcement: 'partner' }

/**
 * EstateOfferSchema: a live offer in estate 12 with exactly one of coupon, activity, reward, listing.
 * @param {number} id
 * @param {'coupon' | 'activity' | 'reward' | 'partner_service' | 'announcement'} kind
 * @param {any} thing the coupon template, activity, reward or listing
 */
function offer(id, kind, thing, changes = {}) {
  const title = { coupon: thing.name, activity: thing.title, reward: thing.name }[kind] || thing.title
  const summary = {
    coupon: `${thing.face}，${thing.validity}`, activity: `12月10日 14:00 · ${thing.place}`, reward: `${thing.cost} 积分兑换`,
  }[kind] || (thing.partner ? thing.partner.name : '')
  return {
    id, kind, kind_label: KIND_LABELS[kind], category: CATEGORY[kind], title, summary, starts_at: '2026-12-03T06:48:39+00:00',
    ends_at: '2026-12-12T06:48:39+00:00', estate_id: 12, ref_id: thing.id,
    coupon: kind === 'coupon' ? thing : null, activity: kind === 'activity' ? thing : null, reward: kind === 'reward' ? thing : null,
    listing: kind === 'partner_service' || kind === 'announcement' ? thing : null, ...changes,
  }
}

/** The five kinds, newest first, as GET /api/v1/estates/12/offers answers. */
const OFFERS = [
  offer(7, 'announcement', listing(3, { kind: 'announcement', title: '周末社区团购：本地时令水果', price_fen: null, price_note: '', signup_mode: 'none' })),
  offer(6, 'partner_service', listing(1)),
  offer(5, 'reward', REWARD),
  offer(4, 'activity', activity(1)),
  offer(3, 'coupon', template(1)),
]

const MUTES = [
  { category: 'coupon', name: '优惠券', description: '小区可领的优惠券', muted: false },
  { category: 'activity', name: '社区活动', description: '小区的社区活动', muted: false },
  { category: 'reward', name: '积分好礼', description: '可用积分兑换的好礼', muted: false },
  { category: 'partner', name: '伙伴服务', description: '生态伙伴的服务与公告', muted: true },
]

/** GET /api/v1/me/subscriptions's purposes, as the server lists them (core/notifications PURPOSE_LABELS). */
const PURPOSES = [
  { purpose: 'visit', name: '上门服务安排', description: '管家在您的小区发布上门服务日期时通知您', template_id: 'tmpl_visit_notice', remaining: 0 },
  { purpose: 'order', name: '服务单进度', description: '服务单派单、预约上门时间、完成或取消时通知您', template_id: 'tmpl_order_status', remaining: 2 },
  { purpose: 'redemption', name: '积分兑换结果', description: '兑换审核结果、奖品发放或积分退回时通知您', template_id: 'tmpl_redemption_status', remaining: 0 },
  { purpose: 'maintenance', name: '保养提醒', description: '家中产品该换滤芯、清洗或检测时提醒您，可一键预约管家上门', template_id: 'tmpl_maintenance_due', remaining: 0 },
  { purpose: 'offer', name: '小区优惠与活动', description: '您所在的小区有新的优惠券、社区活动或伙伴服务时通知您（可在小区优惠中按类别关闭）', template_id: 'tmpl_offer_notice', remaining: 0 },
  { purpose: 'activity', name: '活动报名提醒', description: '报名的活动开始前一天提醒您；候补转正、活动变更或取消时通知您', template_id: 'tmpl_activity_notice', remaining: 1 },
]

module.exports = {
  fixClock, activity, signup, waitlisted, template, coupon, percentCoupon, listing, residentListing, REWARD, PARTNER, offer, OFFERS,
  MUTES, PURPOSES,
}
