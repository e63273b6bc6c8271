/**
 * The engineer pages' states for the layout test (pages/work/**), with long names and texts where
 * they could push things sideways. Responses in the server's real shapes (test/unit/work-fixtures.js).
 */
const { apiError } = require('../helpers')
const F = require('../unit/work-fixtures')

const LONG = '翠竹苑南区二期（东门）幸福里花园小区'
const ready = [
  ['GET', '/api/v1/engineer/me', 200, F.engineerMe([F.CUIZHU, { ...F.BISHUI, name: LONG }])],
  ['GET', '/api/v1/engineers/3', 200, { ...F.PROFILE, estates: [F.PROFILE.estates[0], { ...F.PROFILE.estates[1], name: LONG }] }],
  ['GET', '/api/v1/me/points', 200, F.POINTS],
  ['GET', '/api/v1/ambassador/me', 200, F.AMBASSADOR_ACTIVE],
  ['GET', '/api/v1/engineer/service-orders/counts', 200, { assigned: 12, scheduled: 3 }],
  ['GET', '/api/v1/engineer/questions', 200, { items: Array.from({ length: 20 }, (_, i) => F.question(i + 1, 'q')), next_cursor: 'n' }],
  ['GET', '/api/v1/me', 200, F.ME],
]
const token = (mp) => mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 't' })
const ORDERS = [
  F.order(31, 'assigned', { address: `${LONG}3栋1单元502室（电梯右手边第二户）`, description: '客厅挂机空调不制冷，外机有异响，周末都在家'.repeat(2),
    preferred_slot: '周六上午', photos: ['/api/v1/uploads/a.jpg', '/api/v1/uploads/b.jpg'] }),
  F.order(30, 'scheduled', { contact_name: '陈女士（女儿）' }),
  F.order(29, 'completed', { rating: 5 }),
]

/** @type {import('./scenarios').Scenario[]} */
const scenarios = [
  { name: 'work-ready', route: 'pages/work/index', before: token, routes: ready },
  { name: 'work-outsider', route: 'pages/work/index', before: token,
    routes: [['GET', '/api/v1/engineer/me', 403, apiError('forbidden', '没有权限执行此操作')]],
    act: async (page) => { page.instance.setData({ claimError: '邀请码无效或已使用' }) } },
  { name: 'work-error', route: 'pages/work/index', before: token, routes: [['GET', '/api/v1/engineer/me', 'network']] },
  { name: 'work-code-ready', route: 'pages/work/code/index', before: token, routes: [
    ['GET', '/api/v1/engineer/me', 200, F.engineerMe([{ ...F.CUIZHU, name: LONG }, F.BISHUI])],
    ['POST', '/api/v1/engineer/binding-codes', 201, F.bindingCode('S', '2099-12-04T12:00:00+08:00', { ...F.CUIZHU, name: LONG })]],
  before: (mp) => { token(mp); wx.setStorageSync('linli.work.estate', 12) } },
  { name: 'work-code-choose', route: 'pages/work/code/index', before: token,
    routes: [['GET', '/api/v1/engineer/me', 200, F.engineerMe([{ ...F.CUIZHU, name: LONG }, F.BISHUI])]] },
  { name: 'work-code-expired', route: 'pages/work/code/index', before: token, routes: [
    ['GET', '/api/v1/engineer/me', 200, F.engineerMe([F.CUIZHU])],
    ['POST', '/api/v1/engineer/binding-codes', 201, F.bindingCode('S', '2020-12-04T12:00:00+08:00')]],
  act: async (page) => { page.instance.setData({ autoRefreshed: 'S', refreshing: false, expired: true }); page.instance.onUnload() } },
  { name: 'work-code-failed', route: 'pages/work/code/index', before: token, routes: [
    ['GET', '/api/v1/engineer/me', 200, F.engineerMe([F.CUIZHU, F.BISHUI])],
    ['POST', '/api/v1/engineer/binding-codes', 403, apiError('estate_not_covered', '您未负责该小区，请联系管理员分配')]],
  before: (mp) => { token(mp); wx.setStorageSync('linli.work.estate', 12) } },
  { name: 'work-customers-ready', route: 'pages/work/customers/index', before: token, routes: [
    ['GET', '/api/v1/engineer/me', 200, F.engineerMe()],
    ['GET', '/api/v1/engineer/customers', 200, { items: [F.customer(21, '陈阿姨'),
      F.customer(22, '欧阳娜娜娜娜娜娜娜娜娜娜', { estate: { ...F.BISHUI, name: LONG }, last_visit_at: null, phone: null })], next_cursor: 'n' }]] },
  { name: 'work-customers-empty', route: 'pages/work/customers/index', before: token, routes: [
    ['GET', '/api/v1/engineer/me', 200, F.engineerMe([F.CUIZHU])],
    ['GET', '/api/v1/engineer/customers', 200, { items: [], next_cursor: null }]] },
  { name: 'work-customer-ready', route: 'pages/work/customer/index', options: { id: '21' }, before: token, routes: [
    ['GET', '/api/v1/engineer/customers/21', 200, { ...F.CUSTOMER_DETAIL, estates: [...F.CUSTOMER_DETAIL.estates,
      { estate: { ...F.BISHUI, name: LONG }, source: 'manual', joined_at: '2026-11-20T02:00:00+00:00' }] }],
    ['GET', '/api/v1/engineer/service-orders', 200, { items: ORDERS.slice(0, 2), next_cursor: null }]] },
  { name: 'work-orders-ready', route: 'pages/work/orders/index', options: { status: '' }, before: token, routes: [
    ['GET', '/api/v1/engineer/me', 200, F.engineerMe()],
    ['GET', '/api/v1/engineer/service-orders', 200, { items: ORDERS, next_cursor: null }]] },
  { name: 'work-orders-scheduling', route: 'pages/work/orders/index', before: token, routes: [
    ['GET', '/api/v1/engineer/me', 200, F.engineerMe()],
    ['GET', '/api/v1/engineer/service-orders', 200, { items: [ORDERS[0]], next_cursor: null }]],
  act: async (page) => {
    page.querySelector('.order >>> .schedule').dispatchEvent('tap')
    await new Promise((r) => setTimeout(r, 10))
    page.querySelector('.order').instance.setData({ scheduleError: '预约时间须在将来' })
  } },
  { name: 'work-orders-empty', route: 'pages/work/orders/index', before: token, routes: [
    ['GET', '/api/v1/engineer/me', 200, F.engineerMe()],
    ['GET', '/api/v1/engineer/service-orders', 200, { items: [], next_cursor: null }]] },
  { name: 'work-questions-ready', route: 'pages/work/questions/index', before: token, routes: [
    ['GET', '/api/v1/engineer/questions', 200, { items: [
      F.question(1, '热水器漏水怎么办？'.repeat(6), { photos: ['/api/v1/uploads/q.jpg', '/api/v1/uploads/r.jpg', '/api/v1/uploads/s.jpg'], estate_name: LONG }),
      F.question(2, '净水器滤芯多久换？', { my_answer_held: true })], next_cursor: null }]],
  act: async (page) => { page.instance.setData({ 'items[1].error': '内容包含违规信息，无法发布，请修改后再试', 'items[0].answered': '已发布：先关闭进水总阀' }) } },
  { name: 'work-questions-empty', route: 'pages/work/questions/index', before: token,
    routes: [['GET', '/api/v1/engineer/questions', 200, { items: [], next_cursor: null }]] },
  { name: 'work-visit-ready', route: 'pages/work/visit/index', before: token, routes: [
    ['GET', '/api/v1/engineer/me', 200, F.engineerMe([{ ...F.CUIZHU, name: LONG }, F.BISHUI])],
    ['GET', /^\/api\/v1\/estates\/\d+\/visits$/, 200, { items: [F.announcement(5, 3, '2026-12-05', { note: '顺路为大家免费检测净水器，欢迎预约'.repeat(2) })] }]],
  act: async (page) => {
    page.instance.setData({ errors: { slots: '时段不能重叠' },
      result: { title: '已发布12月6日 周日的上门安排', detail: `${LONG} · 4 个可预约时段`, notified: '已通知 1200 户住户（其中 300 户收到微信服务通知）' } })
  } },
]

module.exports = { scenarios }
