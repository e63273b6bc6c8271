/**
 * Recorded answers of the resident's API for the layout test, in the server's real shapes (the
 * same as the unit tests of each page, test/unit/<page>.test.js), with long names, addresses and
 * texts where they could push things sideways.
 */

/** A long estate name (the longest the demo data has is shorter). */
const LONG_ESTATE = '翠竹苑南区二期（东门）幸福里花园小区'
const LONG_NAME = '欧阳娜娜娜娜娜娜娜娜娜娜'
const LONG_ADDRESS = `${LONG_ESTATE} 12栋 3单元 2501室（电梯右手边第二户，门口有鞋柜）`
const LONG_TEXT = '客厅挂机空调不制冷，开机十分钟后出风还是热的，外机有很响的嗡嗡声，周末全天都在家，工作日晚上七点以后在家。'

/** An estate as lists carry it (my estates, an address's estate). */
const CUIZHU = { id: 12, name: '翠竹苑', city: '深圳市', district: '南山区' }
const LONG = { id: 15, name: LONG_ESTATE, city: '深圳市', district: '南山区' }
/** GET /api/v1/estates/{id}, an item of GET /api/v1/estates */
const fullEstate = (e, extra = {}) => ({ ...e, code: null, province: '广东省', address: '科技园南路 88 号', lat: 22.541, lng: 113.95,
  households: 1200, status: 'active', ...extra })
/** An item of GET /api/v1/me/estates */
const residency = (estate, source = 'self') => ({ estate, source, joined_at: '2026-12-01T02:00:00+00:00' })

/** GET /api/v1/me */
const me = (extra = {}) => ({ id: 5, display_name: '', avatar_url: null, phone: null, phone_confirmed: false, username: null,
  roles: ['resident'], created_at: '2026-11-01T02:00:00+00:00', ...extra })

/** An item of GET /api/v1/me/stewards */
const steward = (id, name, estate, extra = {}) => ({ binding_id: id, engineer: { id: id + 2, name, phone: '13800138000', status: 'active',
  photo_url: null }, estate, since: '2026-12-01T10:00:00+08:00', rank: 2, ...extra })

/** GET /api/v1/me/notifications */
const notice = (id, extra = {}) => ({ id, kind: 'order', title: `服务单已派单 ${id}`, body: `您的空调维修服务单（#${id}）已派给王建国师傅。`,
  page: `pages/order/index?id=${id}`, wechat: true, read: false, created_at: '2026-12-04T01:30:00+00:00', ...extra })
const inbox = (unread, items = [notice(1)]) => ({ items, next_cursor: null, unread_count: unread })

/** GET /api/v1/me/points */
const POINTS = { balance: 12680, held: 300, pending: 1250, expiring: { points: 520, before: '2026-12-31T15:59:59+00:00' } }
/** An item of GET /api/v1/me/points/entries */
const entry = (id, amount, kind, reason) => ({ id, amount, kind, reason, created_at: '2026-12-03T02:00:00+00:00', transaction_id: id + 100 })

/** Post authors */
const RESIDENT = { id: 21, name: '邻居', badge: null, badge_label: null }
const LONG_RESIDENT = { id: 22, name: LONG_NAME, badge: 'ambassador', badge_label: '服务代言人' }
const ENGINEER = { id: 30, name: '王建国', badge: 'engineer', badge_label: '工程师' }
const LONG_ENGINEER = { id: 31, name: '司马长风长风长风长风', badge: 'engineer', badge_label: '工程师' }
const AGENT = { id: 1, name: '客服小李', badge: 'agent', badge_label: '客服' }

/** An item of GET /api/v1/estates/{id}/feed */
const post = (id, extra = {}) => ({ id, estate_id: 12, kind: 'question', text: `问题${id}`, photos: [], status: 'published', status_label: '已发布',
  author: RESIDENT, answers_count: 0, comments_count: 0, likes_count: 0, liked: false, accepted_answer_id: null,
  review_id: null, created_at: '2026-12-04T02:00:00+00:00', accepted_answer: null, ...extra })
const PHOTOS = ['a', 'b', 'c', 'd'].map((n) => `/api/v1/uploads/${n}.jpg`)
const QUESTION = post(3, { text: `电梯维保一般多久一次？${LONG_TEXT}`, photos: PHOTOS, author: LONG_RESIDENT, answers_count: 2,
  comments_count: 1, likes_count: 4, accepted_answer_id: 8,
  accepted_answer: { id: 8, text: '按规定每 15 天维保一次，每次大约停梯一到两个小时，物业会提前一天在电梯厅张贴通知，请留意公告栏。', author: LONG_ENGINEER } })
const ANNOUNCEMENT = post(2, { kind: 'announcement', text: '周六上午 9:00–12:00 小区停水检修，请提前储水。', author: AGENT, likes_count: 12, liked: true })
const REVIEW_POST = post(5, { kind: 'review', text: '王师傅准时上门，装得很干净，还教我怎么清洗滤网。', author: RESIDENT, photos: [PHOTOS[0]], review_id: 7 })
const HELD_POST = post(4, { text: '需要的加微信聊', status: 'held', status_label: '已提交，审核通过后显示' })

/** GET /api/v1/estates/{id}/engineers */
const RANKING = { estate_id: 12, window_days: 90, items: [
  { rank: 1, engineer: { id: 3, name: '王建国', photo_url: '/api/v1/uploads/w.jpg' }, score: 82.41, first_service_at: '2026-01-02T02:00:00+00:00',
    components: { bayes_rating: 4.7, avg_rating: 4.8, ratings_count: 150, likes: 1210, complaints: 0, completed: 1200, recent_completed: 128, quality: 0.9, volume: 0.5 } },
  { rank: 2, engineer: { id: 4, name: '司马长风长风长风长风', photo_url: null }, score: 36.75, first_service_at: null,
    components: { bayes_rating: 4.5, avg_rating: null, ratings_count: 0, likes: 0, complaints: 0, completed: 0, recent_completed: 0, quality: 0.6125, volume: 0 } },
  { rank: 4, engineer: { id: 5, name: '李师傅', photo_url: null }, score: 12.5, first_service_at: null,
    components: { bayes_rating: 4.1, avg_rating: 4, ratings_count: 3, likes: 2, complaints: 1, completed: 5, recent_completed: 1, quality: 0.4, volume: 0.1 } },
] }

/** GET /api/v1/estates/{id}/visits (slot times relative to now, as the page compares them with now) */
const future = (hours) => new Date(Date.now() + hours * 3600e3).toISOString().replace('Z', '+00:00')
const VISITS = { items: [
  { id: 5, day: '2026-12-06', note: '顺路为大家免费检测净水器和燃气热水器，请提前准备好保修卡和购买凭证。', engineer: { id: 3, name: LONG_NAME }, slots: [
    { id: 51, starts_at: future(-1), ends_at: future(0), available: true, mine: false, order_id: null },
    { id: 52, starts_at: future(20), ends_at: future(21), available: false, mine: true, order_id: 77 },
    { id: 53, starts_at: future(21), ends_at: future(22), available: false, mine: false, order_id: null },
    { id: 54, starts_at: future(22), ends_at: future(23), available: true, mine: false, order_id: null },
  ] },
  { id: 6, day: '2026-12-08', note: '', engineer: { id: 4, name: '李志强' }, slots: [
    { id: 61, starts_at: future(70), ends_at: future(71), available: true, mine: false, order_id: null },
  ] },
] }

/** GET /api/v1/posts/{id} */
const answer = (id, author, extra = {}) => ({ id, post_id: 3, author, text: `回答${id}`, status: 'published',
  status_label: '已发布', accepted: false, created_at: '2026-12-04T03:00:00+00:00', ...extra })
const comment = (id, author, extra = {}) => ({ id, post_id: 3, author, text: `评论${id}`, status: 'published',
  status_label: '已发布', created_at: '2026-12-04T04:00:00+00:00', ...extra })
const POST_DETAIL = (extra = {}) => {
  const { accepted_answer: _, liked: __, ...question } = QUESTION
  return { post: { ...question, accepted_answer_id: 9 },
    answers: [answer(9, LONG_ENGINEER, { accepted: true, text: '按规定每 15 天维保一次，每次大约停梯一到两个小时。\n物业会提前一天张贴通知。' }),
      answer(8, ENGINEER, { text: '可以在物业公众号上查到维保记录。' })],
    comments: [comment(5, LONG_RESIDENT, { text: '谢谢师傅，很有帮助！' }), comment(6, RESIDENT, { text: '上次停了三个小时，希望能提前说清楚时间。' })],
    liked: false, can_answer: false, can_accept: true, ...extra }
}

/** GET /api/v1/engineers/{id} and /reviews */
const ENGINEER_PROFILE = {
  id: 3, name: LONG_NAME, photo_url: '/api/v1/uploads/wang.jpg', intro: '十年家电维修经验，擅长空调、热水器和净水器的安装与维修。\n周一到周六都可以预约上门。', status: 'active',
  estates: [
    { ...CUIZHU, rank: 1, score: 29.132 },
    { ...LONG, rank: null, score: null },
  ],
  totals: { completed: 1236, reviews: 482, avg_rating: 4.86, likes: 12034 },
  liked: false, can_like: true, is_my_steward: true,
}
const review = (id, extra = {}) => ({ id, rating: 5, text: `师傅很专业，${LONG_TEXT}`, photos: [], created_at: '2026-12-01T02:00:00+00:00',
  estate_name: LONG_ESTATE, reviewer_name: '陈**', ...extra })
const REVIEWS = { items: [review(9, { photos: ['/api/v1/uploads/r1.jpg', '/api/v1/uploads/r2.jpg', '/api/v1/uploads/r3.jpg', '/api/v1/uploads/r4.jpg'] }),
  review(8, { rating: 3, reviewer_name: '用户', text: '' })], next_cursor: 'r2' }

/** An item of GET /api/v1/me/addresses (the default first) */
const address = (id, estate, extra = {}) => ({ id, estate, building: '12栋', unit: '3单元', room: '2501', contact_name: '陈小明',
  contact_phone: '13812345678', is_default: false, text: `${estate.name} 12栋 3单元 2501`,
  created_at: '2026-12-01T02:00:00+00:00', updated_at: '2026-12-01T02:00:00+00:00', ...extra })

/** A service order (GET /api/v1/service-orders/{id}, an item of GET /api/v1/me/service-orders) */
const order = (id, extra = {}) => ({ id, source: 'app', estate_id: 12, resident_id: 5, engineer_id: 3, preferred_engineer_id: 3,
  service_type: 'repair', service_type_label: '维修', description: LONG_TEXT, preferred_slot: '2026-12-06 09:30', status: 'assigned',
  status_label: '已派单', requested_at: '2026-12-04T02:00:00+00:00', assigned_at: '2026-12-04T02:00:00+00:00', scheduled_for: null,
  completed_at: null, cancelled_at: null, cancel_reason: null, rating: null, complained: false, address: LONG_ADDRESS,
  contact_name: LONG_NAME, contact_phone: '13812345678', customer_name: '陈小明', photos: ['/api/v1/uploads/p1.jpg', '/api/v1/uploads/p2.jpg'],
  engineer: { id: 3, name: LONG_NAME, photo_url: '/api/v1/uploads/wang.jpg' }, review: null, ...extra })
const ORDER_REVIEW = { id: 7, order_id: 41, engineer_id: 3, rating: 4, text: `准时，干净。${LONG_TEXT}`,
  photos: ['/api/v1/uploads/r1.jpg', '/api/v1/uploads/r2.jpg'], created_at: '2026-12-06T04:00:00+00:00' }
const REVIEW_SHARE_POST = post(90, { kind: 'review', text: ORDER_REVIEW.text, photos: ORDER_REVIEW.photos, review_id: 7,
  author: { id: 5, name: '陈小明', badge: null, badge_label: null }, created_at: '2026-12-06T05:00:00+00:00' })

/** GET /api/v1/rewards */
const reward = (id, extra = {}) => ({ id, name: `奖品${id}`, description: '', image_url: '', cost: 100, stock: null,
  per_user_limit: null, ends_at: null, ...extra })
const REWARDS = [
  reward(1, { name: '304 不锈钢真空保温杯（500ml，颜色随机发放）', description: '双层真空，保温 12 小时，杯盖可拆洗，适合上班通勤和户外使用。',
    image_url: '/api/v1/uploads/cup.jpg', cost: 100, stock: 5, per_user_limit: 1, ends_at: '2026-12-24T12:00:00+00:00' }),
  reward(2, { name: '空调深度清洗服务券', cost: 50, stock: 0 }),
  reward(3, { name: '智能电饭煲', image_url: '/api/v1/uploads/cooker.jpg', cost: 15800 }),
]
/** POST /api/v1/redemptions, an item of GET /api/v1/me/redemptions */
const redemption = (id, status, extra = {}) => ({ id, reward: { id: 1, name: `奖品${id}`, image_url: '/api/v1/uploads/r.jpg', cost: 100 },
  quantity: 1, points: 100, status, reason: null, note: null, created_at: '2026-12-03T02:00:00+00:00',
  decide_by: '2026-12-17T02:00:00+00:00', decided_at: null, fulfilled_at: null, ...extra })

/** GET /api/v1/ambassador/me */
const LEVEL = { id: 1, code: 'trainee', name: '见习代言人', position: 1, permissions: ['recruit', 'announce'], multiplier_pct: 120 }
const AMBASSADOR = { status: 'active', status_reason: null, level: LEVEL, next_level: { name: '银牌代言人', threshold: 500 },
  contribution_total: 380, window_contribution: 120, window_days: 90, invite_code: 'K7QX2M9P',
  estates: [CUIZHU, LONG, { id: 13, name: '桃源居', city: '深圳市', district: '宝安区' }], joined_at: '2026-11-20T02:00:00+00:00' }
const APPLICATION = { id: 31, status: 'pending', reason: null, channel: 'member', created_at: '2026-12-03T02:00:00+00:00',
  decided_at: null, reapply_after: null }
const BOARD = { scope: 'all', period: 'month', scope_key: 'all', period_key: '2026-12',
  items: [{ rank: 1, name: '王*', level: '金牌代言人', points: 900, is_me: false },
    { rank: 2, name: '欧阳**', level: '见习代言人', points: 120, is_me: true },
    { rank: 3, name: '司马***', level: '银牌代言人', points: 96, is_me: false }],
  me: { rank: 2, points: 120 } }

/** The ambassador's tasks */
const task = (id, extra = {}) => ({ id, title: `任务${id}`, description: '', kind: 'promotion', points: 100,
  deadline: '2026-12-20T10:00:00+00:00', total_limit: null, per_person_limit: 1, proof_required: ['text'],
  accepted: false, pending: 0, approved: 0, rejected: 0, remaining_for_me: 1, remaining_total: null, ...extra })
const submission = (id, status, extra = {}) => ({ id, task_id: 7, task_title: '写一篇使用体验', text: '已发到业主群', link: null, photos: [],
  status, reason: null, points: null, created_at: '2026-12-03T02:00:00+00:00', reviewed_at: null, ...extra })

/** GET /api/v1/ambassador/invite and /referrals */
const INVITE = { invite_code: 'K7QX2M9P', scene: 'i=K7QX2M9P', page: 'pages/index/index', image_url: '/api/v1/invites/K7QX2M9P/image' }
const invitee = (id, status, label, points, extra = {}) => ({ id, invitee_name: `邻*${id}`, attributed_at: '2026-12-01T02:00:00+00:00',
  protected_until: '2026-12-31T02:00:00+00:00', status, status_label: label, qualified_by: points ? 'ambassador' : null, points, ...extra })
const REFERRAL_TOTALS = { invitees: 1234, pending: 56, rewarded: 1100, flagged: 78, lapsed: 0, points: 110000 }

/** GET /api/v1/me/subscriptions */
const PURPOSES = [
  { purpose: 'visit', name: '上门服务安排', description: '管家在您的小区发布上门服务日期时通知您', template_id: 'tmpl_visit_notice', remaining: 0 },
  { purpose: 'order', name: '服务单进度', description: '服务单派单、预约上门时间、完成或取消时通知您', template_id: 'tmpl_order_status', remaining: 2 },
  { purpose: 'redemption', name: '积分兑换结果', description: '兑换审核结果、奖品发放或积分退回时通知您', template_id: 'tmpl_redemption_status', remaining: 0 },
]

module.exports = {
  LONG_ESTATE, LONG_NAME, LONG_ADDRESS, LONG_TEXT, CUIZHU, LONG, fullEstate, residency, me, steward, notice, inbox,
  POINTS, entry, RESIDENT, LONG_RESIDENT, ENGINEER, LONG_ENGINEER, AGENT, post, QUESTION, ANNOUNCEMENT, REVIEW_POST, HELD_POST,
  RANKING, VISITS, answer, comment, POST_DETAIL, ENGINEER_PROFILE, review, REVIEWS, address, order, ORDER_REVIEW,
  REVIEW_SHARE_POST, REWARDS, redemption, LEVEL, AMBASSADOR, APPLICATION, BOARD, task, submission, INVITE, invitee,
  REFERRAL_TOTALS, PURPOSES,
}
