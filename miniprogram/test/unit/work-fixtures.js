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
  start_reason: 'scan', last_visit_at: '2026-12-01T01:30:00+00:00', ...extra,
})

/** GET /api/v1/engineer/customers/{id} */
const CUSTOMER_DETAIL = {
  user_id: 21, display_name: '陈阿姨', phone: '13800000001', since: '2026-11-20T02:00:00+00:00', bound_estate: CUIZHU,
  estates: [{ estate: CUIZHU, source: 'binding', joined_at: '2026-11-20T02:00:00+00:00' }],
  visits: [
    { id: 8, estate_id: 12, visit_ref: 'WO-778', rating: 5, comment: '很专业', created_at: '2026-12-01T01:30:00+00:00' },
    { id: 5, estate_id: 12, visit_ref: null, rating: null, comment: null, created_at: '2026-11-20T02:00:00+00:00' },
  ],
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
  id: 70, post_id: postId, author_id: 9, author: { id: 9, name: '王建国', badge: 'engineer', badge_label: '工程师' },
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

module.exports = {
  CUIZHU, BISHUI, engineerMe, PROFILE, POINTS, AMBASSADOR_ACTIVE, AMBASSADOR_NONE, ME, bindingCode, customer,
  CUSTOMER_DETAIL, order, question, answer, announcement,
}
