/**
 * Recorded answers of the engineer's API, in the server's real shapes (dumped from the live
 * server), shared by the work-*.test.js files.
 */
const CUIZHU = { id: 12, name: '翠竹苑', city: '深圳市', district: '南山区' }
const BISHUI = { id: 13, name: '碧水湾', city: '深圳市', district: '南山区' }

/** GET /api/v1/engineer/me */
const engineerMe = (estates = [CUIZHU, BISHUI]) => ({
  id: 3, name: '王建国', phone: '13800138000', employee_no: 'E1001', status: 'active', user_id: 9,
  claimed_at: '2026-11-01T02:00:00+00:00', invite_expires_at: '2026-11-15T02:00:00+00:00', left_at: null,
  photo_url: null, intro: '', estates,
})

/** GET /api/v1/engineers/{id} */
const PROFILE = {
  id: 3, name: '王建国', photo_url: null, intro: '', status: 'active',
  estates: [{ ...CUIZHU, rank: 2, score: 87.25 }, { ...BISHUI, rank: null, score: null }],
  totals: { completed: 41, reviews: 30, avg_rating: 4.83, likes: 12 }, liked: false, can_like: false, is_my_steward: false,
}

const POINTS = { balance: 320, held: 0, pending: 0, expiring: { points: 0, before: null } }

const LEVEL = { id: 1, code: 'bronze', name: '铜牌代言人', position: 1, permissions: [], multiplier_pct: 100 }
const AMBASSADOR_ACTIVE = {
  application: { id: 4, status: 'approved', reason: null, channel: 'engineer', created_at: '2026-10-01T02:00:00+00:00',
    decided_at: '2026-10-02T02:00:00+00:00', reapply_after: null },
  ambassador: { status: 'active', status_reason: null, level: LEVEL, next_level: { name: '银牌代言人', threshold: 200 },
    contribution_total: 50, window_contribution: 30, window_days: 90, invite_code: 'AB12CD', estates: [CUIZHU],
    joined_at: '2026-10-02T02:00:00+00:00' },
}
const AMBASSADOR_NONE = { application: null, ambassador: null }

const ME = { id: 9, display_name: '王建国', avatar_url: null, phone: null, phone_confirmed: false, username: 'E1001',
  roles: ['engineer', 'resident'], created_at: '2026-11-01T02:00:00+00:00' }

/** GET /api/v1/engineer/binding-codes (POST) */
const bindingCode = (scene = 'Scene0000000000000000000001', expires = '2026-12-04T12:00:00+08:00', estate = CUIZHU) => ({
  scene, expires_at: expires, estate, visit_ref: null, uses_left: 10, image_url: `http://127.0.0.1:5000/api/v1/binding-codes/${scene}/image`,
})

/** An item of GET /api/v1/engineer/customers */
const customer = (id, name, extra = {}) => ({
  user_id: id, display_name: name, phone: '138****0001', estate: CUIZHU, since: '2026-11-20T02:00:00+00:00',
  start_reason: 'scan', last_visit_at: '2026-12-01T01:30:00+00:00', health: null, ...extra,
})

/** GET /api/v1/engineer/customers/{id} */
const CUSTOMER_DETAIL = {
  user_id: 21, display_name: '陈阿姨', phone: '13800000001', since: '2026-11-20T02:00:00+00:00', bound_estate: CUIZHU,
  estates: [{ estate: CUIZHU, source: 'binding', joined_at: '2026-11-20T02:00:00+00:00' }],
  visits: [
    { id: 8, estate_id: 12, visit_ref: 'WO-778', rating: 5, comment: '很专业', created_at: '2026-12-01T01:30:00+00:00' },
    { id: 5, estate_id: 12, visit_ref: null, rating: null, comment: null, created_at: '2026-11-20T02:00:00+00:00' },
  ],
  health: {
    score: 55, band: 'yellow', band_label: '黄色', previous_score: 100, previous_band: 'green', trend: -45,
    band_since: '2026-12-04T18:30:00+00:00', computed_at: '2026-12-04T18:30:00+00:00',
    reasons: [{ signal: 'open_complaints', points: 35, text: '1 个投诉未处理' }, { signal: 'overdue_care', points: 10, text: '1 项保养已逾期' }],
  },
  tags: ['VIP', '老人独居'],
}

/** An item of GET /api/v1/engineer/service-orders */
const order = (id, status = 'assigned', extra = {}) => ({
  id, source: 'app', estate_id: 12, resident_id: 21, engineer_id: 3, preferred_engineer_id: 3, service_type: 'repair',
  service_type_label: '维修', description: '空调不制冷', preferred_slot: null, status,
  status_label: { assigned: '已派单', scheduled: '已预约', completed: '已完成', cancelled: '已取消', requested: '待派单' }[status],
  requested_at: '2026-12-03T02:00:00+00:00', assigned_at: '2026-12-03T02:00:00+00:00',
  scheduled_for: status === 'scheduled' || status === 'completed' ? '2026-12-05T01:30:00+00:00' : null,
  completed_at: status === 'completed' ? '2026-12-05T03:00:00+00:00' : null, cancelled_at: null, cancel_reason: null,
  rating: null, complained: false, address: '3栋1单元502', contact_name: '陈女士', contact_phone: '13912345678',
  customer_name: '陈阿姨', photos: [], engineer: { id: 3, name: '王建国', photo_url: null }, review: null, ...extra,
})

/** An item of GET /api/v1/engineer/questions */
const question = (id, text, extra = {}) => ({
  id, estate_id: 12, estate_name: '翠竹苑', text, photos: [], created_at: '2026-12-03T02:00:00+00:00',
  author: { id: 21, name: '陈阿姨', badge: null, badge_label: null }, my_answer_held: false, ...extra,
})

/** POST /api/v1/posts/{id}/answers */
const answer = (postId, text, status = 'published') => ({
  id: 70, post_id: postId, author: { id: 9, name: '王建国', badge: 'engineer', badge_label: '工程师' },
  text, status, status_label: status === 'published' ? '已发布' : '已提交，审核通过后显示', accepted: false,
  created_at: '2026-12-04T02:00:00+00:00',
})

/** An item of GET /api/v1/estates/{id}/visits */
const announcement = (id, engineerId, day = '2026-12-05', extra = {}) => ({
  id, day, note: '', engineer: { id: engineerId, name: engineerId === 3 ? '王建国' : '李师傅' },
  slots: [
    { id: id * 10 + 1, starts_at: `${day}T01:00:00+00:00`, ends_at: `${day}T02:00:00+00:00`, available: false, mine: false, order_id: null },
    { id: id * 10 + 2, starts_at: `${day}T02:00:00+00:00`, ends_at: `${day}T03:00:00+00:00`, available: true, mine: false, order_id: null },
  ],
  ...extra,
})

// -- the smart service engine: due care, the customer book, health ------------------------------

/** `health` of a customer (HealthSchema); null before the first score. */
const health = (score = 100, extra = {}) => ({
  score, band: score >= 70 ? 'green' : score >= 40 ? 'yellow' : 'red',
  band_label: score >= 70 ? '绿色' : score >= 40 ? '黄色' : '红色',
  previous_score: null, previous_band: null, trend: null,
  band_since: '2026-12-05T18:30:00+00:00', computed_at: '2026-12-05T18:30:00+00:00', reasons: [], ...extra,
})
const REASONS = [
  { signal: 'open_complaints', points: 35, text: '1 个投诉未处理' },
  { signal: 'overdue_care', points: 10, text: '1 项保养已逾期' },
]

/** An item of GET /api/v1/engineer/reminders (CareItemSchema), as the item's engineer sees it. */
const careItem = (id, extra = {}) => ({
  id, status: 'open', status_label: '待处理', route: 'steward', route_label: '管家',
  due_on: '2026-12-15', notify_on: '2026-12-01', days_left: 10, overdue: false, snoozed_until: null,
  notified_at: '2026-12-01T02:00:00+00:00', channel: 'inbox', order_id: null, outcome_note: null, outcome_at: null,
  created_at: '2026-11-15T18:30:00+00:00',
  product: { id: 40 + id, serial: `SN0000${id}`, model_code: 'RO-600G', model_name: '净水器 RO-600G', category: 'water_purifier',
    category_label: '净水器', address: '3栋1单元502' },
  plan: { id: 1, name: '滤芯更换', service_type: 'maintenance', service_type_label: '保养', description: '定期更换滤芯' },
  customer: { id: 21, name: '陈阿姨', phone: '13800000001', phone_full: true },
  estate: { id: 12, name: '翠竹苑' },
  engineer: { id: 3, name: '王建国', photo_url: null },
  ...extra,
})

/** GET /api/v1/engineer/reminders/counts */
const CARE_COUNTS = { due: 2, overdue: 1, snoozed: 0, booked: 1, done: 3 }

/** POST /api/v1/engineer/reminders/{id}/outcome */
const outcomeResult = (item, order = null) => ({ item, order })

/** A follow-up (CustomerFollowUpSchema). */
const followUp = (id, extra = {}) => ({
  id, resident_id: 21, resident_name: '陈阿姨', engineer_id: 3, due_on: '2026-12-08', text: '回访净水器出水情况',
  author: { id: 9, name: '王建国' }, overdue: false, done: false, done_at: null, done_by_id: null,
  created_at: '2026-12-01T02:00:00+00:00', ...extra,
})

/** A note (CustomerNoteSchema). */
const note = (id, text, extra = {}) => ({
  id, resident_id: 21, text, author: { id: 9, name: '王建国' }, created_at: '2026-12-02T02:00:00+00:00', ...extra,
})

const SUGGESTED_TAGS = ['VIP', '老人独居', '有宠物', '白天不在家', '需提前电话', '多套房产', '价格敏感', '意见领袖']
/** GET/POST/DELETE .../tags */
const tags = (items) => ({ items, suggested: SUGGESTED_TAGS })

/** An item of GET /api/v1/product-models */
const productModel = (id, code, name, extra = {}) => ({
  id, code, name, category: 'water_purifier', category_label: '净水器', image: null, image_url: null, warranty_months: 24,
  active: true, created_at: '2026-11-01T02:00:00+00:00', updated_at: '2026-11-01T02:00:00+00:00', ...extra,
})

/** A product of GET/POST /api/v1/engineer/customers/{id}/products (ProductSchema) */
const product = (id, extra = {}) => ({
  id, serial: `SN0000${id}`, status: 'active', status_label: '在用', source: 'engineer', source_label: '工程师登记',
  model: { id: 1, code: 'RO-600G', name: '净水器 RO-600G', category: 'water_purifier', category_label: '净水器', image_url: null, warranty_months: 24 },
  install_date: '2026-06-15', purchase_date: null, warranty_end: '2028-06-15', in_warranty: true, warranty_days_left: 558,
  owner_id: 21, estate_id: 12, estate_name: '翠竹苑', address_id: null, address: '3栋1单元502',
  installer: { id: 3, name: '王建国' },
  next_care: { due_on: '2026-12-15', plan_id: 1, plan_name: '滤芯更换', service_type: 'maintenance', service_type_label: '保养', overdue: false, days_left: 10 },
  created_at: '2026-06-15T02:00:00+00:00', ...extra,
})

/** Entries of GET .../customers/{id}/timeline, newest first (as the server titles them). */
const TIMELINE = [
  { kind: 'note', at: '2026-12-05T06:08:49+00:00', title: '王建国 的备注', detail: '家中有老人，上门前先电话', links: { note_id: 1 } },
  { kind: 'care_outcome', at: '2026-12-05T06:08:40+00:00', title: '保养暂缓：滤芯更换（净水器 RO-600G）', detail: '暂缓至 2026-12-08', links: { care_item_id: 1, product_id: 41 } },
  { kind: 'product', at: '2026-12-05T06:08:30+00:00', title: '登记产品：净水器 RO-600G', detail: '序列号 SN00001 · 保修至 2028-12-05', links: { product_id: 41 } },
  { kind: 'binding_started', at: '2026-11-20T02:00:00+00:00', title: '成为 王建国 的客户', detail: '上门扫码 · 翠竹苑', links: { binding_id: 1, engineer_id: 3, estate_id: 12 } },
]

/** An item of GET /api/v1/engineer/health-alerts (HealthAlertSchema) */
const healthAlert = (id, extra = {}) => ({
  id, resident_id: 21, resident_name: '陈阿姨', engineer: { id: 3, name: '王建国' }, estate: CUIZHU, score: 30,
  reasons: [{ signal: 'open_complaints', points: 70, text: '2 个投诉未处理' }], status: 'open',
  handled_by_id: null, handled_by_name: null, handled_at: null, handled_note: null, created_at: '2026-12-04T18:30:00+00:00',
  ...extra,
})

module.exports = {
  CUIZHU, BISHUI, engineerMe, PROFILE, POINTS, AMBASSADOR_ACTIVE, AMBASSADOR_NONE, ME, bindingCode, customer,
  CUSTOMER_DETAIL, order, question, answer, announcement,
  health, REASONS, careItem, CARE_COUNTS, outcomeResult, followUp, note, tags, SUGGESTED_TAGS, productModel, product,
  TIMELINE, healthAlert,
}
