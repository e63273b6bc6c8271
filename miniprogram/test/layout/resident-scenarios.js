/**
 * The resident's pages' states for the layout test (every page but pages/bind and pages/work/**),
 * with long names, estates, addresses and texts where they could push things sideways. Responses
 * in the server's real shapes (test/layout/resident-fixtures.js, copied from the unit tests).
 * States reached by a tap get there in `act`, through the page's elements as a resident would.
 */
const { apiError, flush } = require('../helpers')
const F = require('./resident-fixtures')
const C = require('../unit/care-fixtures')
const A = require('../unit/activation-fixtures')

/** Signed in already (no wx.login round trip to route). */
const token = () => wx.setStorageSync('linli.token', 'tok')
/** Photos the resident picks, and the uploads that answer them. */
function photos(mp, n) {
  token()
  mp.chosenMedia = Array.from({ length: n }, (_, i) => `/tmp/p${i}.jpg`)
  let id = 0
  mp.route('POST', '/api/v1/uploads', () => { id += 1; return [201, { id: `img${id}.jpg`, url: `/api/v1/uploads/img${id}.jpg` }] })
}
/** @param {any} page @param {string} selector @param {string} event @param {any} [detail] */
async function fire(page, selector, event = 'tap', detail = {}) {
  const el = page.querySelector(selector)
  if (!el) throw new Error(`nothing matches ${selector}`)
  el.dispatchEvent(event, { detail })
  await flush(10)
}

const ESTATES = [F.CUIZHU, F.LONG, { id: 13, name: '桃源居', city: '深圳市', district: '宝安区' }]
const home = ({ stewards, estates = ESTATES, me = F.me({ roles: ['engineer', 'resident'] }), unread = 120 } = {}) => [
  ['GET', '/api/v1/me/stewards', 200, { items: stewards || [F.steward(7, F.LONG_NAME, F.LONG), F.steward(8, '王建国', F.CUIZHU, { rank: null })] }],
  ['GET', '/api/v1/me/estates', 200, { items: estates.map((e) => F.residency(e)) }],
  ['GET', '/api/v1/me', 200, me],
  ['GET', '/api/v1/me/notifications', 200, F.inbox(unread)],
]

const NEAR = [
  F.fullEstate({ id: 12, name: '翠竹苑', city: '深圳市', district: '南山区' }, { distance_m: 111 }),
  F.fullEstate({ id: 15, name: F.LONG_ESTATE, city: '深圳市', district: '南山区' }, { distance_m: 1530, address: '南山区科技园南路与高新南九道交汇处东北角 88 号' }),
  F.fullEstate({ id: 16, name: '海岸城花园', city: '深圳市', district: '南山区' }, { distance_m: 4870, address: '' }),
]
const estatesRoutes = (found) => [
  ['GET', '/api/v1/me/estates', 200, { items: [F.residency(F.LONG)] }],
  ['GET', '/api/v1/estates', 200, found ? { items: found, next_cursor: null } : { items: NEAR, next_cursor: null }],
]

const LONG_ESTATE_FULL = F.fullEstate({ ...F.CUIZHU, name: F.LONG_ESTATE })
const estateRoutes = (mine = ESTATES) => [
  ['GET', '/api/v1/me/estates', 200, { items: mine.map((e) => F.residency(e)) }],
  ['GET', '/api/v1/estates/12', 200, LONG_ESTATE_FULL],
  ['GET', '/api/v1/estates/12/feed', 200, { items: [F.QUESTION, F.ANNOUNCEMENT, F.REVIEW_POST, F.HELD_POST], next_cursor: 'f2' }],
  ['GET', '/api/v1/estates/12/engineers', 200, F.RANKING],
  ['GET', '/api/v1/estates/12/visits', 200, F.VISITS],
]

const BOOK = { items: [
  F.address(1, F.LONG, { is_default: true, text: F.LONG_ADDRESS, contact_name: F.LONG_NAME }),
  F.address(2, F.CUIZHU, { contact_name: '陈妈妈', contact_phone: '13900001111' }),
  F.address(3, F.CUIZHU),
] }
const requestRoutes = (book = BOOK) => [
  ['GET', '/api/v1/me/addresses', 200, book],
  ['GET', '/api/v1/me', 200, F.me({ display_name: '陈小明', phone: '13700002222', phone_confirmed: true })],
  ['GET', '/api/v1/engineers/3', 200, { ...F.ENGINEER_PROFILE, can_like: false }],
  ['GET', '/api/v1/me/coupons', 200, { items: [], next_cursor: null }],
]

const ORDERS = [
  F.order(9, { status: 'scheduled', status_label: '已预约', scheduled_for: '2026-12-06T01:30:00+00:00', service_type: 'install', service_type_label: '安装' }),
  F.order(8, { status: 'requested', status_label: '待派单', engineer_id: null, engineer: null, assigned_at: null }),
  F.order(7, { status: 'completed', status_label: '已完成', completed_at: '2026-12-03T02:00:00+00:00', service_type: 'cleaning', service_type_label: '清洗' }),
  F.order(6, { status: 'cancelled', status_label: '已取消', cancelled_at: '2026-12-03T02:00:00+00:00', cancel_reason: '计划有变', address: '' }),
]
const COMPLETED = F.order(41, { status: 'completed', status_label: '已完成', scheduled_for: '2026-12-06T01:30:00+00:00',
  completed_at: '2026-12-06T03:00:00+00:00' })

const TASKS = { items: [
  F.task(9, { title: '转发社区海报到三个以上的业主群，并截图证明（截图须能看清群名和转发时间）', total_limit: 50, remaining_total: 12, points: 1200 }),
  F.task(8, { kind: 'activity', accepted: true, title: '参加周六上午的家电清洗公益活动' }),
  F.task(7, { kind: 'content', accepted: true, pending: 1 }),
  F.task(6, { kind: 'recruit', accepted: true, approved: 1, remaining_for_me: 0 }),
  F.task(5, { total_limit: 10, remaining_total: 0 }),
], next_cursor: null }
const SUBMISSIONS = { items: [
  F.submission(21, 'pending', { task_title: '转发社区海报到三个以上的业主群，并截图证明（截图须能看清群名和转发时间）' }),
  F.submission(20, 'rejected', { reason: '截图看不清群名和转发时间，请重新截图后再提交，谢谢您的配合。' }),
  F.submission(19, 'approved', { points: 1320, task_id: 6, task_title: '邀请邻居' }),
], next_cursor: null }
const TASK = { id: 8, title: '转发社区海报到三个以上的业主群，并截图证明', description: '把海报转发到业主群\n并截图（截图须能看清群名和转发时间）。\n每个群只算一次。',
  kind: 'promotion', points: 1200, deadline: '2026-12-20T10:00:00+00:00', total_limit: 50, per_person_limit: 3,
  proof_required: ['text', 'link', 'photos'], accepted: false, pending: 0, approved: 0, rejected: 0, remaining_for_me: 3, remaining_total: 12 }
const taskRoutes = (t, subs = []) => [
  ['GET', '/api/v1/ambassador/tasks/8', 200, t],
  ['GET', '/api/v1/ambassador/submissions', 200, { items: subs, next_cursor: null }],
]

const LONG_MODEL = { ...C.brief(C.RO600), name: '反渗透净水器 RO-600G 厨下式大通量（带前置过滤与智能水质监测）' }
const LONG_SERIAL = 'RO600G2025ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQ'
const PRODUCTS = { items: [
  C.product(9, { model: LONG_MODEL, serial: LONG_SERIAL, address: F.LONG_ADDRESS, estate_name: F.LONG_ESTATE,
    next_care: C.nextCare('2026-11-30', -8, { plan_name: '年度深度清洗与杀菌消毒（含外机）' }) }),
  C.product(7, { model: { ...C.brief(C.KFR35), image_url: '/api/v1/uploads/kfr.jpg' }, install_date: '2019-06-01', purchase_date: null,
    warranty_end: '2020-06-01', in_warranty: false, warranty_days_left: 0, next_care: C.nextCare('2027-05-01', 144) }),
  C.product(6, { model: C.brief(C.RO800), install_date: null, purchase_date: null, warranty_end: null, in_warranty: false,
    warranty_days_left: 0, next_care: null }),
], next_cursor: null }
const LONG_CARE = C.careItem(31, { product: { ...C.careItem(31).product, model_name: LONG_MODEL.name, serial: LONG_SERIAL,
  address: F.LONG_ADDRESS }, plan: { ...C.careItem(31).plan, name: '年度深度清洗与杀菌消毒（含外机）' },
  estate: { id: 15, name: F.LONG_ESTATE }, steward: { id: 3, name: F.LONG_NAME, photo_url: null } })
const careItemRoutes = (item = LONG_CARE) => [['GET', '/api/v1/me/reminders/31', 200, item]]
const productFormRoutes = [
  ['GET', '/api/v1/me/addresses', 200, { items: [C.address(3, { is_default: true, text: F.LONG_ADDRESS }), C.address(4)] }],
  ['GET', '/api/v1/product-models', 200, { items: [{ ...C.RO600, name: LONG_MODEL.name }, C.RO800], next_cursor: null }],
]

const ADDRESS = F.address(3, F.LONG, { is_default: true, text: F.LONG_ADDRESS, building: '12栋', unit: '3单元', room: '2501',
  contact_name: F.LONG_NAME })
const addressRoutes = [
  ['GET', '/api/v1/me', 200, F.me()],
  ['GET', '/api/v1/me/estates', 200, { items: [F.residency(F.CUIZHU), F.residency(F.LONG)] }],
  ['GET', '/api/v1/me/addresses', 200, { items: [ADDRESS, F.address(4, F.CUIZHU)] }],
]

const LONG_COUPON = '空调深度清洗与杀菌消毒专享满减优惠券（限时）'
const LONG_TEMPLATE = (changes = {}) => A.template(1, { name: LONG_COUPON, face: '满1000减200', ...changes })
const LONG_ACTIVITY = (changes = {}) => A.activity(1, {
  title: '社区义诊：三甲医院专家进小区，免费量血压、测血糖与健康咨询', place: `${F.LONG_ESTATE}会所二楼多功能厅（电梯上二楼右转）`,
  description: `${F.LONG_TEXT}\n请带好医保卡。`, photos: ['/api/v1/uploads/a1.jpg', '/api/v1/uploads/a2.jpg', '/api/v1/uploads/a3.jpg', '/api/v1/uploads/a4.jpg'],
  organizer: { kind: 'partner', kind_label: '生态伙伴', name: '洁净家政服务有限公司（南山分公司）' },
  coupon: { template_id: 4, name: LONG_COUPON, face: '满1000减200' }, ...changes })
const FULL_ACTIVITY = LONG_ACTIVITY({ confirmed: 30, seats_left: 0, waitlisted: 11, photos: [] })
const LONG_LISTING = (changes = {}) => A.residentListing(1, {
  title: '上门深度保洁：三小时全屋保洁（含厨房油烟机与卫生间除垢）', body: `${F.LONG_TEXT}\n自带工具与清洁剂。`,
  photos: ['/api/v1/uploads/s1.jpg', '/api/v1/uploads/s2.jpg'], price_fen: 1999950, price_note: '/次起',
  partner: { ...A.PARTNER, name: '洁净家政服务有限公司（南山分公司）', category: '家政保洁' }, ...changes })
const offerRoutes = () => [...estateRoutes(), ['GET', '/api/v1/estates/12/offers', 200, { items: [
  A.offer(7, 'announcement', A.listing(3, { kind: 'announcement', title: '周末社区团购：本地时令水果，满 99 元免费送货上门', price_fen: null,
    price_note: '', signup_mode: 'none', partner: { ...A.PARTNER, name: '邻里鲜果社区团购（翠竹苑团长：欧阳娜娜）' } })),
  A.offer(6, 'partner_service', LONG_LISTING()),
  A.offer(5, 'reward', { ...A.REWARD, name: '电动牙刷（声波震动，五档清洁模式，附赠两支刷头）', cost: 128000 }),
  A.offer(4, 'activity', FULL_ACTIVITY),
  A.offer(3, 'coupon', LONG_TEMPLATE()),
  A.offer(2, 'activity', LONG_ACTIVITY({ my: A.signup(1) })),
], next_cursor: 'o2' }]]

/** @type {import('./scenarios').Scenario[]} */
const scenarios = [
  // -- 首页
  { name: 'index-ready', route: 'pages/index/index', before: token, routes: home() },
  { name: 'index-handover', route: 'pages/index/index', before: token, routes: home({ stewards: [F.steward(7, '王建国', F.CUIZHU, {
    engineer: { id: 9, name: '王建国', phone: '13800138000', status: 'left', photo_url: null },
    handover: { id: 41, kind: 'engineer_left', status: 'pending', due_at: '2026-12-06T10:00:00+08:00', created_at: '2026-12-05T10:00:00+08:00',
      to_engineer: { id: 4, name: F.LONG_NAME, status: 'active', photo_url: null } } })] }) },
  { name: 'index-new', route: 'pages/index/index', before: token, routes: home({ stewards: [], estates: [], me: F.me(), unread: 0 }) },
  { name: 'index-invite', route: 'pages/index/index', options: { scene: encodeURIComponent('i=AB12CD') }, before: token, routes: [
    ...home({ stewards: [], estates: [F.CUIZHU], me: F.me(), unread: 0 }),
    ['POST', '/api/v1/referrals', 200, { result: 'created', referral: { id: 4, inviter_name: '欧阳**', attributed_at: '2026-12-04T02:00:00+00:00',
      protected_until: '2027-01-03T02:00:00+00:00', status: 'pending', status_label: '待达标' } }]] },

  // -- 添加小区
  { name: 'estates-nearby', route: 'pages/estates/index', routes: estatesRoutes(),
    before: (mp) => { token(); mp.location = { latitude: 22.54, longitude: 113.95 } } },
  { name: 'estates-search', route: 'pages/estates/index', before: token,
    routes: estatesRoutes([F.fullEstate({ ...F.CUIZHU, id: 30, name: '翠湖山庄' }), F.fullEstate(F.LONG, { address: '南山区科技园南路与高新南九道交汇处东北角 88 号' })]),
    act: async (page) => {
      await fire(page, '.search-input', 'input', { value: '翠竹苑南区二期（东门）幸福里' })
      await fire(page, '.search-input', 'confirm', { value: '翠竹苑南区二期（东门）幸福里' })
    } },
  { name: 'estates-nolocation', route: 'pages/estates/index', before: token, routes: estatesRoutes() },

  // -- 小区
  { name: 'estate-feed', route: 'pages/estate/index', before: token, routes: estateRoutes() },
  { name: 'estate-engineers', route: 'pages/estate/index', before: token, routes: estateRoutes(),
    act: async (page) => { await fire(page, '.tab-engineers') } },
  { name: 'estate-visits', route: 'pages/estate/index', before: token, routes: estateRoutes(),
    act: async (page) => { await fire(page, '.tab-visits') } },
  { name: 'estate-none', route: 'pages/estate/index', before: token, routes: [['GET', '/api/v1/me/estates', 200, { items: [] }]] },

  // -- 动态详情
  { name: 'post-asker', route: 'pages/post/index', options: { id: '3' }, before: token,
    routes: [['GET', '/api/v1/posts/3', 200, F.POST_DETAIL()]] },
  { name: 'post-held-answer', route: 'pages/post/index', options: { id: '3' }, before: token, routes: [
    ['GET', '/api/v1/posts/3', 200, F.POST_DETAIL({ can_answer: true, can_accept: false })],
    ['POST', '/api/v1/posts/3/answers', 201, F.answer(10, F.LONG_ENGINEER, { text: '加微信私下交易，价格更便宜', status: 'held', status_label: '已提交，审核通过后显示' })]],
  act: async (page) => {
    await fire(page, '.draft', 'input', { value: '加微信私下交易，价格更便宜' })
    await fire(page, '.send')
  } },
  { name: 'post-held', route: 'pages/post/index', options: { id: '3' }, before: token, routes: [['GET', '/api/v1/posts/3', 200,
    F.POST_DETAIL({ post: { ...F.POST_DETAIL().post, status: 'held', status_label: '已提交，审核通过后显示', answers_count: 0, comments_count: 0 },
      answers: [], comments: [], can_accept: false })]] },

  // -- 提问
  { name: 'ask-empty', route: 'pages/ask/index', options: { estate_id: '12', name: encodeURIComponent(F.LONG_ESTATE) }, before: token },
  { name: 'ask-errors', route: 'pages/ask/index', options: { estate_id: '12', name: encodeURIComponent(F.LONG_ESTATE) },
    before: (mp) => photos(mp, 4), routes: [['POST', '/api/v1/estates/12/posts', 422, apiError('validation_error', '最多 9 张照片',
      { fields: { photo_ids: ['最多 9 张照片，请删掉几张后再发布'], text: ['内容不能超过 2000 字'] } })]],
  act: async (page) => {
    await fire(page, '.photos >>> .add')
    await fire(page, '.text', 'input', { value: F.LONG_TEXT })
    await fire(page, '.submit')
  } },

  // -- 工程师
  { name: 'engineer-profile', route: 'pages/engineer/index', options: { id: '3' }, before: token, routes: [
    ['GET', '/api/v1/engineers/3', 200, F.ENGINEER_PROFILE], ['GET', '/api/v1/engineers/3/reviews', 200, F.REVIEWS]] },
  { name: 'engineer-cannot-like', route: 'pages/engineer/index', options: { id: '3' }, before: token, routes: [
    ['GET', '/api/v1/engineers/3', 200, { ...F.ENGINEER_PROFILE, photo_url: null, intro: '', can_like: false, is_my_steward: false,
      totals: { completed: 0, reviews: 0, avg_rating: null, likes: 0 } }],
    ['GET', '/api/v1/engineers/3/reviews', 200, { items: [], next_cursor: null }]] },

  // -- 申请服务
  { name: 'request-filled', route: 'pages/request/index', options: { estate_id: '15', engineer_id: '3' }, before: token,
    routes: requestRoutes({ items: [BOOK.items[0], F.address(5, F.LONG, { text: `${F.LONG_ESTATE} 3栋 1单元 101`, contact_name: '陈妈妈' })] }),
    act: async (page) => {
      await fire(page, '.type-picker', 'change', { value: '1' })
      await fire(page, '.description', 'input', { value: F.LONG_TEXT })
      await fire(page, '.date-picker', 'change', { value: '2099-12-06' })
      await fire(page, '.time-picker', 'change', { value: '09:30' })
    } },
  { name: 'request-errors', route: 'pages/request/index', options: { estate_id: '12', engineer_id: '3' }, before: token,
    routes: requestRoutes({ items: [] }),
    act: async (page) => {
      await fire(page, '.phone', 'input', { value: '138001' })
      await fire(page, '.time-picker', 'change', { value: '09:30' })
      await fire(page, '.submit')
    } },

  // -- 服务单
  { name: 'orders-list', route: 'pages/orders/index', before: token,
    routes: [['GET', '/api/v1/me/service-orders', 200, { items: ORDERS, next_cursor: 'o2' }]] },
  { name: 'orders-empty', route: 'pages/orders/index', before: token,
    routes: [['GET', '/api/v1/me/service-orders', 200, { items: [], next_cursor: null }]] },
  { name: 'order-requested', route: 'pages/order/index', options: { id: '41', created: '1' }, before: token, routes: [
    ['GET', '/api/v1/service-orders/41', 200, F.order(41, { status: 'requested', status_label: '待派单', engineer_id: null, engineer: null, assigned_at: null })]] },
  { name: 'order-review-form', route: 'pages/order/index', options: { id: '41' }, before: (mp) => photos(mp, 2),
    routes: [['GET', '/api/v1/service-orders/41', 200, COMPLETED]],
    act: async (page) => {
      page.querySelectorAll('.rating >>> .star')[3].dispatchEvent('tap')
      await fire(page, '.review-input', 'input', { value: '准时，干净。' })
      await fire(page, '.review-photos >>> .add')
    } },
  { name: 'order-reviewed', route: 'pages/order/index', options: { id: '41' }, before: token, routes: [
    ['GET', '/api/v1/service-orders/41', 200, { ...COMPLETED, rating: 4, review: F.ORDER_REVIEW }],
    ['GET', '/api/v1/service-orders/41/review/share', 200, { shared: true, post: { ...F.REVIEW_SHARE_POST, status: 'held', status_label: '已提交，审核通过后显示' } }]] },
  { name: 'order-cancelled', route: 'pages/order/index', options: { id: '41' }, before: token, routes: [
    ['GET', '/api/v1/service-orders/41', 200, F.order(41, { status: 'cancelled', status_label: '已取消', cancelled_at: '2026-12-04T03:00:00+00:00',
      cancel_reason: '问题已自行解决，家里人已经把空调修好了，不需要上门了' })]] },
  { name: 'order-complaint', route: 'pages/order/index', options: { id: '41' }, before: token, routes: [
    ['GET', '/api/v1/service-orders/41', 200, F.order(41, { status: 'scheduled', status_label: '已预约', scheduled_for: '2026-12-06T01:30:00+00:00' })]],
  act: async (page) => {
    await fire(page, '.complain')
    await fire(page, '.submit-complaint')
  } },

  // -- 积分
  { name: 'points-ready', route: 'pages/points/index', before: token, routes: [
    ['GET', '/api/v1/me/points', 200, F.POINTS],
    ['GET', '/api/v1/me/points/entries', 200, { items: [
      F.entry(9, -30, 'hold', '兑换「304 不锈钢真空保温杯（500ml，颜色随机发放）」×1'),
      F.entry(8, 20, 'binding_rating', '完成管家绑定并评价服务'),
      F.entry(7, 12600, 'task', '完成任务「转发社区海报到三个以上的业主群，并截图证明」'),
      F.entry(6, -520, 'expiry', '积分到期'),
      F.entry(5, 100, 'adjustment', '活动补偿'),
    ], next_cursor: null }]] },
  { name: 'points-empty', route: 'pages/points/index', before: token, routes: [
    ['GET', '/api/v1/me/points', 200, { balance: 0, held: 0, pending: 0, expiring: { points: 0, before: null } }],
    ['GET', '/api/v1/me/points/entries', 200, { items: [], next_cursor: null }]] },

  // -- 积分兑换
  { name: 'rewards-list', route: 'pages/rewards/index', before: token, routes: [
    ['GET', '/api/v1/rewards', 200, { items: F.REWARDS }],
    ['GET', '/api/v1/me/points', 200, { ...F.POINTS, balance: 120 }]] },
  { name: 'rewards-redeemed', route: 'pages/rewards/index', before: token, routes: [
    ['GET', '/api/v1/rewards', 200, { items: F.REWARDS }],
    ['GET', '/api/v1/me/points', 200, { ...F.POINTS, balance: 120 }],
    ['POST', '/api/v1/redemptions', 201, F.redemption(41, 'pending', { reward: { id: 1, name: F.REWARDS[0].name, image_url: '/api/v1/uploads/cup.jpg', cost: 100 } })]],
  act: async (page) => {
    mp.route('GET', '/api/v1/me/points', 200, { ...F.POINTS, balance: 20 })
    await fire(page, '.redeem')
  } },

  // -- 我的兑换
  { name: 'redemptions-list', route: 'pages/redemptions/index', before: token, routes: [['GET', '/api/v1/me/redemptions', 200, { items: [
    F.redemption(6, 'pending', { reward: { id: 1, name: F.REWARDS[0].name, image_url: '/api/v1/uploads/cup.jpg', cost: 100 }, quantity: 2, points: 200 }),
    F.redemption(5, 'approved', { decided_at: '2026-12-03T05:00:00+00:00' }),
    F.redemption(4, 'fulfilled', { note: '券码 ABCD-1234-EFGH-5678，请在 12 月 31 日前到物业服务中心领取', fulfilled_at: '2026-12-03T06:00:00+00:00',
      reward: { id: 2, name: '空调深度清洗服务券', image_url: '', cost: 50 } }),
    F.redemption(3, 'rejected', { reason: '库存核对有误，积分已退回您的账户，给您带来不便敬请谅解' }),
    F.redemption(2, 'voided', { reason: '超时未审核，积分已退回', quantity: 2, points: 200 }),
    F.redemption(1, 'cancelled', { reason: '用户取消' }),
  ], next_cursor: null }]] },

  // -- 服务代言人
  { name: 'ambassador-none', route: 'pages/ambassador/index', before: token,
    routes: [['GET', '/api/v1/ambassador/me', 200, { application: null, ambassador: null }]] },
  { name: 'ambassador-pending', route: 'pages/ambassador/index', before: token,
    routes: [['GET', '/api/v1/ambassador/me', 200, { application: F.APPLICATION, ambassador: null }]] },
  { name: 'ambassador-active', route: 'pages/ambassador/index', before: token, routes: [
    ['GET', '/api/v1/ambassador/me', 200, { application: { ...F.APPLICATION, status: 'approved' }, ambassador: F.AMBASSADOR }],
    ['GET', '/api/v1/ambassador/leaderboard', 200, F.BOARD]] },
  { name: 'ambassador-suspended', route: 'pages/ambassador/index', before: token, routes: [
    ['GET', '/api/v1/ambassador/me', 200, { application: { ...F.APPLICATION, status: 'approved' },
      ambassador: { ...F.AMBASSADOR, status: 'suspended', status_reason: '近 30 天内有 3 次任务提交被判定为虚假证明，暂停代言人身份', next_level: null } }],
    ['GET', '/api/v1/ambassador/leaderboard', 200, F.BOARD]] },

  // -- 申请代言人
  { name: 'apply-form', route: 'pages/apply/index', options: { invite_code: 'k7qx2m9p' }, before: token, routes: [
    ['GET', '/api/v1/ambassador/me', 200, { application: null, ambassador: null }],
    ['GET', '/api/v1/me/estates', 200, { items: ESTATES.map((e) => F.residency(e, 'binding')) }],
    ['GET', '/api/v1/me', 200, F.me({ display_name: '小李', phone: '13912345678', phone_confirmed: true })]],
  act: async (page) => { await fire(page, '.estate') } },
  { name: 'apply-errors', route: 'pages/apply/index', options: { invite_code: 'NOPE' }, before: token, routes: [
    ['GET', '/api/v1/ambassador/me', 200, { application: null, ambassador: null }],
    ['GET', '/api/v1/me/estates', 200, { items: [] }],
    ['GET', '/api/v1/me', 200, F.me()],
    ['POST', '/api/v1/ambassador/applications', 422, apiError('validation_error', '申请信息有误', { fields: {
      real_name: ['2 to 32 characters'], phone: ['a mainland China mobile number (11 digits starting with 13–19)'],
      invite_code: ['unknown, or its ambassador may not recruit'], estate_ids: ['choose 1 to 5 of your estates'] } })]],
  act: async (page) => { await fire(page, '.submit') } },

  // -- 代言人任务
  { name: 'tasks-list', route: 'pages/tasks/index', before: token, routes: [
    ['GET', '/api/v1/ambassador/tasks', 200, TASKS], ['GET', '/api/v1/ambassador/submissions', 200, SUBMISSIONS]] },
  { name: 'tasks-submissions', route: 'pages/tasks/index', before: token, routes: [
    ['GET', '/api/v1/ambassador/tasks', 200, TASKS], ['GET', '/api/v1/ambassador/submissions', 200, SUBMISSIONS]],
  act: async (page) => { await fire(page, '.tab-submissions') } },
  { name: 'task-take', route: 'pages/task/index', options: { id: '8' }, before: token, routes: taskRoutes(TASK) },
  { name: 'task-submit', route: 'pages/task/index', options: { id: '8' }, before: (mp) => photos(mp, 3),
    routes: taskRoutes({ ...TASK, accepted: true }),
    act: async (page) => {
      await fire(page, '.proof-text', 'input', { value: '已转发到 3 个群' })
      await fire(page, '.photo-picker >>> .add')
    } },
  { name: 'task-rejected', route: 'pages/task/index', options: { id: '8' }, before: token,
    routes: taskRoutes({ ...TASK, accepted: true, rejected: 1, approved: 1, remaining_for_me: 1 }, [
      F.submission(31, 'rejected', { task_id: 8, reason: '截图看不清群名和转发时间，请重新截图后再提交', link: 'https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
        text: '已转发到业主一群、二群和装修交流群', photos: ['/api/v1/uploads/s1.jpg'] }),
      F.submission(30, 'approved', { task_id: 8, points: 1320, photos: ['/api/v1/uploads/s2.jpg', '/api/v1/uploads/s3.jpg', '/api/v1/uploads/s4.jpg', '/api/v1/uploads/s5.jpg'] }),
    ]) },

  // -- 邀请好友
  { name: 'invite-ready', route: 'pages/invite/index', before: token, routes: [
    ['GET', '/api/v1/ambassador/invite', 200, F.INVITE],
    ['GET', '/api/v1/ambassador/referrals', 200, { items: [F.invitee(3, 'pending', '待奖励', 0, { invitee_name: '欧阳**' }),
      F.invitee(2, 'rewarded', '已奖励', 100), F.invitee(1, 'flagged', '待核查', 0), F.invitee(0, 'lapsed', '已失效', 0)],
    next_cursor: null, totals: F.REFERRAL_TOTALS }]] },
  { name: 'invite-cannot-recruit', route: 'pages/invite/index', before: token, routes: [
    ['GET', '/api/v1/ambassador/invite', 403, apiError('cannot_recruit', '您当前的代言人等级暂不能邀请新代言人，升级后即可邀请')],
    ['GET', '/api/v1/ambassador/referrals', 200, { items: [], next_cursor: null,
      totals: { invitees: 0, pending: 0, rewarded: 0, flagged: 0, lapsed: 0, points: 0 } }]] },

  // -- 我的
  { name: 'me-new', route: 'pages/me/index', before: token, routes: [
    ['GET', '/api/v1/me', 200, F.me()], ['GET', '/api/v1/me/points', 'network'], ['GET', '/api/v1/me/notifications', 'network']] },
  { name: 'me-full', route: 'pages/me/index', before: token, routes: [
    ['GET', '/api/v1/me', 200, F.me({ display_name: '欧阳娜娜娜娜娜娜娜娜娜', avatar_url: '/api/v1/uploads/a.jpg', phone: '13800138000', phone_confirmed: true })],
    ['GET', '/api/v1/me/points', 200, F.POINTS], ['GET', '/api/v1/me/notifications', 200, F.inbox(120)]] },
  { name: 'me-engineer', route: 'pages/me/index', before: token, routes: [
    ['GET', '/api/v1/me', 200, F.me({ display_name: '王建国', username: 'E1001', roles: ['engineer', 'resident'], phone: '13800138000', phone_confirmed: true })],
    ['GET', '/api/v1/me/points', 200, F.POINTS], ['GET', '/api/v1/me/notifications', 200, F.inbox(3)]] },

  // -- 消息通知
  { name: 'notifications-list', route: 'pages/notifications/index', before: token, routes: [['GET', '/api/v1/me/notifications', 200, {
    items: [F.notice(3, { title: '王建国师傅已接单，将于12月6日（周日）上午 9:30 上门为您安装热水器' }),
      F.notice(2, { read: true, kind: 'visit', title: '王建国师傅12月5日上门服务', body: `${F.LONG_ESTATE}：王建国师傅将于12月5日上门，可预约免费检测。`, page: 'pages/estate/index?id=12' }),
      F.notice(1, { kind: 'redemption', title: '兑换已发放', body: '券码 ABCD-1234-EFGH-5678-IJKL-9012-MNOP-3456', page: null, read: true })],
    next_cursor: 'n2', unread_count: 1 }]] },
  { name: 'notifications-empty', route: 'pages/notifications/index', before: token,
    routes: [['GET', '/api/v1/me/notifications', 200, { items: [], next_cursor: null, unread_count: 0 }]] },

  // -- 通知设置
  { name: 'subscriptions-ready', route: 'pages/subscriptions/index', before: token, routes: [['GET', '/api/v1/me/subscriptions', 200, {
    quotas: { tmpl_order_status: 2 }, purposes: A.PURPOSES }], ['GET', '/api/v1/me/offer-mutes', 200, { items: A.MUTES }]] },

  // -- 我的地址
  { name: 'addresses-list', route: 'pages/addresses/index', before: token, routes: [['GET', '/api/v1/me/addresses', 200, { items: [
    F.address(3, F.LONG, { is_default: true, text: F.LONG_ADDRESS, contact_name: F.LONG_NAME }), F.address(5, F.CUIZHU)] }]] },
  { name: 'addresses-empty', route: 'pages/addresses/index', before: token, routes: [['GET', '/api/v1/me/addresses', 200, { items: [] }]] },
  { name: 'address-new', route: 'pages/address/index', before: token, routes: addressRoutes },
  { name: 'address-edit', route: 'pages/address/index', options: { id: '3' }, before: token, routes: addressRoutes },
  { name: 'address-errors', route: 'pages/address/index', before: token, routes: [...addressRoutes,
    ['GET', '/api/v1/estates', 200, { items: [], next_cursor: null }]],
  act: async (page) => {
    await fire(page, '.estate-query', 'input', { value: '不存在的小区名字很长很长' })
    await fire(page, '.search-button')
    await fire(page, '.input-contact_phone', 'input', { value: '1380013' })
    await fire(page, '.save')
  } },

  // -- 我的家电
  { name: 'products-list', route: 'pages/products/index', before: token, routes: [['GET', '/api/v1/me/products', 200, PRODUCTS]] },
  { name: 'products-empty', route: 'pages/products/index', before: token,
    routes: [['GET', '/api/v1/me/products', 200, { items: [], next_cursor: null }]] },
  { name: 'products-error', route: 'pages/products/index', before: token, routes: [['GET', '/api/v1/me/products', 'network']] },

  // -- 家电
  { name: 'product-detail', route: 'pages/product/index', options: { id: '9' }, before: token, routes: [
    ['GET', '/api/v1/me/products/9', 200, { ...PRODUCTS.items[0], installer: { id: 3, name: F.LONG_NAME }, source_label: '厂家安装记录',
      schedules: [C.schedule(4, '年度深度清洗与杀菌消毒（含外机）', '2026-11-30', { last_done_on: '2025-11-30' }),
        C.schedule(5, 'RO膜更换', '2027-03-01', { description: `RO 膜每 24 个月更换一次。${F.LONG_TEXT}` }),
        C.schedule(6, '安装回访', null)] }]] },
  { name: 'product-new', route: 'pages/product/index', before: (mp) => { token(); mp.scanResult = LONG_SERIAL }, routes: productFormRoutes,
    act: async (page) => {
      await fire(page, '.category-picker', 'change', { value: '0' })
      await fire(page, '.model-picker', 'change', { value: '0' })
      await fire(page, '.scan')
      await fire(page, '.install-picker', 'change', { value: '2026-06-01' })
      await fire(page, '.model-query', 'input', { value: 'RO' })
      await fire(page, '.search-button')
    } },
  { name: 'product-errors', route: 'pages/product/index', before: token, routes: [...productFormRoutes,
    ['POST', '/api/v1/me/products', 422, apiError('validation_error', '提交的数据有误', { fields: {
      serial: ['序列号须为 1–64 个英文字母、数字或符号（不含空格）'], install_date: ['日期不能晚于今天'], purchase_date: ['日期不能早于 1980 年'] } })]],
  act: async (page) => {
    await fire(page, '.submit')
    await fire(page, '.category-picker', 'change', { value: '0' })
    await fire(page, '.model-picker', 'change', { value: '0' })
    await fire(page, '.input-serial', 'input', { value: 'RO 600G' })
    await fire(page, '.submit')
  } },
  { name: 'product-conflict', route: 'pages/product/index', before: token, routes: [...productFormRoutes,
    ['POST', '/api/v1/me/products', 409, apiError('serial_conflict', '该序列号的产品已登记在其他用户名下，客服将核实后与您联系', { conflict_id: 5, status: 'open' })]],
  act: async (page) => {
    await fire(page, '.category-picker', 'change', { value: '0' })
    await fire(page, '.model-picker', 'change', { value: '1' })
    await fire(page, '.input-serial', 'input', { value: LONG_SERIAL })
    await fire(page, '.submit')
  } },
  { name: 'product-edit', route: 'pages/product/index', options: { id: '7' }, before: token, routes: [
    ['GET', '/api/v1/me/products/7', 200, C.productDetail(7, { model: LONG_MODEL, serial: LONG_SERIAL, address_id: null, address: F.LONG_ADDRESS })],
    productFormRoutes[0]],
  act: async (page) => { await fire(page, '.edit') } },

  // -- 保养提醒
  { name: 'care-item', route: 'pages/care/index', options: { id: '31' }, before: token, routes: careItemRoutes() },
  { name: 'care-booked', route: 'pages/care/index', options: { id: '31' }, before: token, routes: [...careItemRoutes(),
    ['POST', '/api/v1/me/reminders/31/book', 200, { ...C.booking(31, 41), item: { ...LONG_CARE, status: 'booked', order_id: 41, can_book: false },
      order: C.bookedOrder(12345678, { engineer: { id: 3, name: F.LONG_NAME, photo_url: null } }) }]],
  act: async (page) => {
    await fire(page, '.preferred-time', 'input', { value: '周六上午十点以后，或者工作日晚上七点以后' })
    await fire(page, '.book')
  } },
  { name: 'care-refused', route: 'pages/care/index', options: { id: '31' }, before: token, routes: [
    ...careItemRoutes(C.careItem(31, { steward: null, is_my_steward: false, estate: null, days_left: -40, overdue: true })),
    ['POST', '/api/v1/me/reminders/31/book', 409, apiError('product_without_estate', '该产品没有登记小区，无法预约，请联系客服')]],
  act: async (page) => { await fire(page, '.book') } },
  { name: 'care-closed', route: 'pages/care/index', options: { id: '31' }, before: token,
    routes: careItemRoutes({ ...LONG_CARE, status: 'cancelled', status_label: '已取消', can_book: false }) },
  { name: 'care-list', route: 'pages/care/index', before: token, routes: [['GET', '/api/v1/me/reminders', 200, { items: [
    { ...LONG_CARE, due_on: '2026-11-23', days_left: -12, overdue: true },
    C.careItem(32, { status: 'booked', status_label: '已预约', order_id: 41, can_book: false }),
    C.careItem(33, { steward: null, is_my_steward: false, days_left: 29 }),
  ], next_cursor: null }]] },
  { name: 'care-empty', route: 'pages/care/index', before: token, routes: [['GET', '/api/v1/me/reminders', 200, { items: [], next_cursor: null }]] },
  { name: 'care-error', route: 'pages/care/index', before: token, routes: [['GET', '/api/v1/me/reminders', 'network']] },

  // -- 小区 › 优惠活动 (estate activation)
  { name: 'estate-offers', route: 'pages/estate/index', options: { id: '12', tab: 'offers' }, before: token, routes: offerRoutes() },
  { name: 'estate-offers-acted', route: 'pages/estate/index', options: { id: '12', tab: 'offers' }, before: token, routes: [...offerRoutes(),
    ['POST', '/api/v1/coupon-templates/1/claim', 201, A.coupon(1)],
    ['GET', '/api/v1/offers/3', 200, A.offer(3, 'coupon', LONG_TEMPLATE({ held: 1, can_claim: false }))],
    ['POST', '/api/v1/activities/1/signups', 200, { signup: A.waitlisted(1, 12), created: true, activity: FULL_ACTIVITY }],
    ['GET', '/api/v1/offers/4', 200, A.offer(4, 'activity', { ...FULL_ACTIVITY, waitlisted: 12, my: A.waitlisted(1, 12) })]],
  act: async (page) => {
    await fire(page, '.offer-3 .claim')
    await fire(page, '.offer-4 .signup')
  } },
  { name: 'estate-offers-empty', route: 'pages/estate/index', options: { id: '12', tab: 'offers' }, before: token,
    routes: [...estateRoutes(), ['GET', '/api/v1/estates/12/offers', 200, { items: [], next_cursor: null }]] },
  { name: 'estate-offers-error', route: 'pages/estate/index', options: { id: '12', tab: 'offers' }, before: token,
    routes: [...estateRoutes(), ['GET', '/api/v1/estates/12/offers', 'network']] },

  // -- 社区活动
  { name: 'activity-open', route: 'pages/activity/index', options: { id: '1' }, before: token,
    routes: [['GET', '/api/v1/activities/1', 200, LONG_ACTIVITY()]] },
  { name: 'activity-full', route: 'pages/activity/index', options: { id: '1' }, before: token,
    routes: [['GET', '/api/v1/activities/1', 200, LONG_ACTIVITY({ confirmed: 30, seats_left: 0, waitlisted: 128, photos: [] })]] },
  { name: 'activity-confirmed', route: 'pages/activity/index', options: { id: '1' }, before: token, routes: [
    ['GET', '/api/v1/activities/1', 200, LONG_ACTIVITY()],
    ['POST', '/api/v1/activities/1/signups', 200, { signup: A.signup(1), created: true,
      activity: LONG_ACTIVITY({ confirmed: 13, seats_left: 17, my: A.signup(1, { promoted_at: '2026-12-06T02:00:00+00:00' }) }) }]],
  act: async (page) => { await fire(page, '.signup') } },
  { name: 'activity-waitlisted', route: 'pages/activity/index', options: { id: '1' }, before: token, routes: [
    ['GET', '/api/v1/activities/1', 200, LONG_ACTIVITY({ confirmed: 30, seats_left: 0, waitlisted: 128, my: A.waitlisted(1, 128) })]] },
  { name: 'activity-checked-in', route: 'pages/activity/index', options: { id: '1' }, before: token, routes: [
    ['GET', '/api/v1/activities/1', 200, LONG_ACTIVITY({ state: 'ongoing', state_label: '进行中',
      my: A.signup(1, { checked_in_at: '2026-12-10T06:05:00+00:00' }) })]] },
  { name: 'activity-cancelled', route: 'pages/activity/index', options: { id: '1' }, before: token, routes: [
    ['GET', '/api/v1/activities/1', 200, LONG_ACTIVITY({ status: 'cancelled', state: 'cancelled', state_label: '已取消', signup_open: false,
      cancelled_reason: '受台风影响，为保障大家安全，本次活动取消，改期后会另行通知，给您带来不便敬请谅解。' })]] },
  { name: 'activity-error', route: 'pages/activity/index', options: { id: '1' }, before: token,
    routes: [['GET', '/api/v1/activities/1', 404, apiError('activity_not_found', '活动不存在')]] },

  // -- 我的活动
  { name: 'activities-list', route: 'pages/activities/index', before: token, routes: [['GET', '/api/v1/me/activities', 200, { items: [
    LONG_ACTIVITY({ my: A.signup(1) }), A.activity(2, { title: '亲子手工课', my: A.waitlisted(2, 12) }),
    A.activity(3, { title: '读书会', place: F.LONG_ADDRESS, my: A.signup(3, { checked_in_at: '2026-12-10T06:05:00+00:00' }) }),
  ], next_cursor: 'c2' }]] },
  { name: 'activities-empty', route: 'pages/activities/index', before: token,
    routes: [['GET', '/api/v1/me/activities', 200, { items: [], next_cursor: null }]] },
  { name: 'activities-error', route: 'pages/activities/index', before: token, routes: [['GET', '/api/v1/me/activities', 'network']] },

  // -- 我的优惠券
  { name: 'coupons-available', route: 'pages/coupons/index', before: token, routes: [['GET', '/api/v1/me/coupons', 200, { items: [
    A.coupon(1, {}, { name: LONG_COUPON, face: '满1000减200', terms: ['减 200 元', '订单满 1000 元可用', '限维修、安装、保养、清洗、检测服务使用',
      '仅限洁净家政服务有限公司（南山分公司）的服务使用', '领取后 30 天内有效', '每人限领 1 张'] }),
    A.percentCoupon(2, { valid_from: '2099-01-01', expires_on: '2099-01-31', usable_now: false }),
    A.coupon(3, { status: 'locked', status_label: '使用中', locked_order_id: 41, source: 'activity', source_label: '参加活动' }),
  ], next_cursor: null }]] },
  { name: 'coupons-used', route: 'pages/coupons/index', options: { status: 'used' }, before: token, routes: [['GET', '/api/v1/me/coupons', 200,
    { items: [A.coupon(4, { status: 'used', status_label: '已使用', locked_order_id: 38, used_at: '2026-12-01T03:00:00+00:00', discount_fen: 2000 })],
      next_cursor: null }]] },
  { name: 'coupons-empty', route: 'pages/coupons/index', before: token,
    routes: [['GET', '/api/v1/me/coupons', 200, { items: [], next_cursor: null }]] },
  { name: 'coupons-error', route: 'pages/coupons/index', before: token, routes: [['GET', '/api/v1/me/coupons', 'network']] },

  // -- 申请服务 with a coupon
  { name: 'request-coupon', route: 'pages/request/index', options: { estate_id: '12' }, before: token, routes: [...requestRoutes(),
    ['GET', '/api/v1/me/coupons', 200, { items: [A.coupon(1, {}, { name: LONG_COUPON, face: '满1000减200' }), A.percentCoupon(2)], next_cursor: null }],
    ['POST', '/api/v1/service-requests', 409, apiError('coupon_expired', '该优惠券已过期')]],
  act: async (page) => {
    await fire(page, '.type-picker', 'change', { value: '0' })
    await fire(page, '.coupon-1')
    await fire(page, '.submit')
  } },

  // -- 伙伴服务
  { name: 'listing-service', route: 'pages/listing/index', options: { id: '1' }, before: token, routes: [
    ['GET', '/api/v1/me', 200, F.me({ phone: '13700002222', phone_confirmed: true })],
    ['GET', '/api/v1/partner-listings/1', 200, LONG_LISTING()]] },
  { name: 'listing-errors', route: 'pages/listing/index', options: { id: '1' }, before: token, routes: [
    ['GET', '/api/v1/me', 200, F.me()], ['GET', '/api/v1/partner-listings/1', 200, LONG_LISTING({ photos: [] })],
    ['POST', '/api/v1/partner-listings/1/leads', 422, apiError('validation_error', '提交的数据有误', { fields: { note: ['备注不能超过 500 字'] } })]],
  act: async (page) => {
    await fire(page, '.signup')
    await fire(page, '.phone', 'input', { value: '13900001111' })
    await fire(page, '.signup')
  } },
  { name: 'listing-signed-up', route: 'pages/listing/index', options: { id: '1' }, before: token, routes: [
    ['GET', '/api/v1/me', 200, F.me()],
    ['GET', '/api/v1/partner-listings/1', 200, LONG_LISTING({ my_lead: { id: 3, status: 'new', created_at: '2026-12-05T06:48:39+00:00' } })]] },
  { name: 'listing-link', route: 'pages/listing/index', options: { id: '1' }, before: token, routes: [
    ['GET', '/api/v1/me', 200, F.me()],
    ['GET', '/api/v1/partner-listings/1', 200, LONG_LISTING({ signup_mode: 'link', link_url: 'https://example.com/trade-in', price_fen: null })]] },
  { name: 'listing-error', route: 'pages/listing/index', options: { id: '1' }, before: token, routes: [
    ['GET', '/api/v1/me', 200, F.me()], ['GET', '/api/v1/partner-listings/1', 404, apiError('listing_not_found', '内容不存在')]] },

  // -- 通知设置 › 不接收这些推荐
  { name: 'subscriptions-muted', route: 'pages/subscriptions/index', before: token, routes: [
    ['GET', '/api/v1/me/subscriptions', 200, { quotas: {}, purposes: A.PURPOSES }],
    ['GET', '/api/v1/me/offer-mutes', 200, { items: A.MUTES }],
    ['PUT', '/api/v1/me/offer-mutes', 200, { items: A.MUTES.map((m) => ({ ...m, muted: m.category !== 'activity' })) }]],
  act: async (page) => { await fire(page, '.mute-coupon .mute-switch', 'change', { value: true }) } },
]

module.exports = { scenarios }
