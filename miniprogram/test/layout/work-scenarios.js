/**
 * The engineer pages' states for the layout test (pages/work/**), with long names and texts where
 * they could push things sideways. Responses in the server's real shapes (test/unit/work-fixtures.js).
 */
const { apiError, waitFor } = require('../helpers')
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
  ['GET', '/api/v1/engineer/reminders/counts', 200, { due: 128, overdue: 17, snoozed: 3, booked: 4, done: 30 }],
  ['GET', '/api/v1/engineer/follow-ups', 200, { items: Array.from({ length: 20 }, (_, i) => F.followUp(i + 1)), next_cursor: 'n' }],
  ['GET', '/api/v1/engineer/health-alerts', 200, { items: [F.healthAlert(1), F.healthAlert(2)], next_cursor: null }],
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
  { name: 'work-password-change', route: 'pages/work/index', before: token,
    routes: [...ready.filter((r) => r[1] !== '/api/v1/me'), ['GET', '/api/v1/me', 200, { ...F.ME, has_password: true }]],
    act: async (page) => { page.instance.setData({ passwordError: '当前密码不正确' }) } },
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
    ['GET', '/api/v1/engineer/customers', 200, { items: [
      F.customer(21, '陈阿姨', { health: F.health(30, { previous_score: 100, trend: -70, reasons: F.REASONS }) }),
      F.customer(22, '欧阳娜娜娜娜娜娜娜娜娜娜', { estate: { ...F.BISHUI, name: LONG }, last_visit_at: null, phone: null,
        health: F.health(100, { previous_score: 85, trend: 15 }) }),
      F.customer(23, '李奶奶', { health: F.health(55) }), F.customer(24, '赵先生')], next_cursor: 'n' }]],
  act: async (page) => { page.instance.setData({ band: 'red', worstFirst: true }) } },
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

// -- the smart service engine: due care, the customer book, follow-ups, health alerts -------------

const CARE_TABS = ['due', 'overdue', 'snoozed', 'booked', 'done']
const careCounts = ['GET', '/api/v1/engineer/reminders/counts', 200, { due: 128, overdue: 17, snoozed: 3, booked: 4, done: 1024 }]
const CARE_ITEMS = {
  due: [
    F.careItem(1, { product: { ...F.careItem(1).product, model_name: '厨下式反渗透净水器 RO-600G 尊享版（带前置过滤）', serial: 'SN2026120500000000001',
      address: `${LONG}3栋1单元502室（电梯右手边第二户）` }, estate: { id: 13, name: LONG },
      plan: { ...F.careItem(1).plan, name: '前置滤芯与 RO 膜组合更换' }, customer: { id: 21, name: '欧阳娜娜娜娜娜娜娜娜娜娜', phone: '13800000001', phone_full: true } }),
    F.careItem(2, { days_left: 0, due_on: '2026-12-05', customer: { id: 22, name: '张**', phone: '139****2222', phone_full: false }, route: 'estate' }),
    F.careItem(3, { customer: { id: null, name: '业主', phone: '13700001111', phone_full: true } }),
  ],
  overdue: [F.careItem(4, { days_left: -120, due_on: '2026-08-07', overdue: true })],
  snoozed: [F.careItem(5, { status: 'snoozed', status_label: '稍后提醒', snoozed_until: '2026-12-20' })],
  booked: [F.careItem(6, { status: 'booked', status_label: '已预约', order_id: 12345 })],
  done: [
    F.careItem(7, { status: 'declined', status_label: '客户不需要', outcome_note: '刚在外面换过滤芯，半年后再联系'.repeat(3), outcome_at: '2026-12-03T02:00:00+00:00' }),
    F.careItem(8, { status: 'done_elsewhere', status_label: '已在别处完成', outcome_at: '2026-12-02T02:00:00+00:00' }),
    F.careItem(9, { status: 'done', status_label: '已完成', order_id: 77, outcome_at: '2026-12-01T02:00:00+00:00' }),
  ],
}
for (const tab of CARE_TABS) {
  scenarios.push(
    { name: `work-reminders-${tab}`, route: 'pages/work/reminders/index', options: { status: tab }, before: token, routes: [careCounts,
      ['GET', '/api/v1/engineer/reminders', 200, { items: CARE_ITEMS[tab], next_cursor: tab === 'due' ? 'n' : null }]] },
    { name: `work-reminders-${tab}-empty`, route: 'pages/work/reminders/index', options: { status: tab }, before: token, routes: [
      ['GET', '/api/v1/engineer/reminders/counts', 200, { due: 0, overdue: 0, snoozed: 0, booked: 0, done: 0 }],
      ['GET', '/api/v1/engineer/reminders', 200, { items: [], next_cursor: null }]] },
    { name: `work-reminders-${tab}-error`, route: 'pages/work/reminders/index', options: { status: tab }, before: token, routes: [
      ['GET', '/api/v1/engineer/reminders/counts', 'network'], ['GET', '/api/v1/engineer/reminders', 'network']] },
  )
}
/** The outcome form on the first due item, with `outcome` chosen and what the server said. */
const outcomeSheet = (name, outcome, extra = {}) => ({
  name, route: 'pages/work/reminders/index', before: token,
  routes: [careCounts, ['GET', '/api/v1/engineer/reminders', 200, { items: CARE_ITEMS.due, next_cursor: null }]],
  act: async (page) => {
    page.querySelector('.reminder .act').dispatchEvent('tap')
    await waitFor(() => page.data.acting !== 0, { what: 'the outcome form' })
    page.instance.setData({ outcome, ...extra })
  },
})
scenarios.push(
  outcomeSheet('work-reminders-outcome', '', { formError: '请选择处理结果' }),
  outcomeSheet('work-reminders-outcome-booked', 'booked', { preferredTime: '周六上午十点以后，先打电话', formError: '客户尚未加入该小区，无法代为预约' }),
  outcomeSheet('work-reminders-outcome-snoozed', 'snoozed', { errors: { snoozed_until: '下次提醒的日期须在明天到 90 天之内' } }),
  outcomeSheet('work-reminders-outcome-declined', 'declined', { note: '刚在外面换过' }),
)

const FOLLOW_UPS = [
  F.followUp(3, { due_on: '2026-11-30', overdue: true, text: '确认投诉处理结果，顺便看看厨房的油烟机是否需要清洗'.repeat(2),
    resident_name: '欧阳娜娜娜娜娜娜娜娜娜娜', author: { id: 9, name: '李师傅（前任管家）' } }),
  F.followUp(1),
  F.followUp(2, { done: true, done_at: '2026-12-04T06:00:00+00:00' }),
]
scenarios.push(
  { name: 'work-follow-ups-ready', route: 'pages/work/follow-ups/index', before: token,
    routes: [['GET', '/api/v1/engineer/follow-ups', 200, { items: FOLLOW_UPS.slice(0, 2), next_cursor: 'n' }]] },
  { name: 'work-follow-ups-done', route: 'pages/work/follow-ups/index', options: { status: 'done' }, before: token,
    routes: [['GET', '/api/v1/engineer/follow-ups', 200, { items: [FOLLOW_UPS[2]], next_cursor: null }]] },
  { name: 'work-follow-ups-empty', route: 'pages/work/follow-ups/index', before: token,
    routes: [['GET', '/api/v1/engineer/follow-ups', 200, { items: [], next_cursor: null }]] },
  { name: 'work-follow-ups-error', route: 'pages/work/follow-ups/index', before: token,
    routes: [['GET', '/api/v1/engineer/follow-ups', 'network']] },
  { name: 'work-alerts-ready', route: 'pages/work/alerts/index', before: token, routes: [['GET', '/api/v1/engineer/health-alerts', 200, { items: [
    F.healthAlert(2, { resident_name: '欧阳娜娜娜娜娜娜娜娜娜娜', estate: { ...F.CUIZHU, name: LONG }, reasons: [
      { signal: 'open_complaints', points: 70, text: '2 个投诉未处理' }, { signal: 'contact', points: 20, text: '超过 120 天未联系或服务' },
      { signal: 'low_ratings', points: 15, text: '近 180 天 1 次差评' }] }),
    F.healthAlert(1)], next_cursor: null }]],
  act: async (page) => { page.instance.setData({ 'errors.1': '请写下处理说明，如：已电话回访' }) } },
  { name: 'work-alerts-handled', route: 'pages/work/alerts/index', options: { status: 'handled' }, before: token, routes: [
    ['GET', '/api/v1/engineer/health-alerts', 200, { items: [F.healthAlert(2, { status: 'handled', handled_note: '已上门处理投诉，客户表示满意'.repeat(2),
      handled_by_id: 9, handled_by_name: '王建国', handled_at: '2026-12-05T02:00:00+00:00' })], next_cursor: null }]] },
  { name: 'work-alerts-empty', route: 'pages/work/alerts/index', before: token,
    routes: [['GET', '/api/v1/engineer/health-alerts', 200, { items: [], next_cursor: null }]] },
)

/** The customer's book on one tab (with long texts where they could push things sideways). */
const BOOK = '/api/v1/engineer/customers/21'
const bookDetail = { ...F.CUSTOMER_DETAIL, display_name: '欧阳娜娜娜娜娜娜娜娜娜娜',
  tags: ['VIP', '老人独居', '白天不在家', '需提前电话', '十六个字的标签十六个字的标签十六'],
  health: { ...F.CUSTOMER_DETAIL.health, reasons: [...F.CUSTOMER_DETAIL.health.reasons, { signal: 'contact', points: 20, text: '超过 120 天未联系或服务' }] } }
const TAB_STATES = { service: 'ordersState', products: 'productsState', followUps: 'followUpsState', notes: 'notesState', timeline: 'timelineState' }
const bookSection = (name, tab, routes, act) => ({
  name, route: 'pages/work/customer/index', options: { id: '21' }, before: token,
  routes: [['GET', BOOK, 200, bookDetail], ['GET', '/api/v1/engineer/service-orders', 200, { items: ORDERS.slice(0, 1), next_cursor: null }], ...routes],
  act: async (page) => {
    page.querySelector(`.tab-${tab}`).dispatchEvent('tap')
    await waitFor(() => page.data[TAB_STATES[tab]] !== 'loading', { what: `the ${tab} tab` })
    if (act) await act(page)
  },
})
scenarios.push(
  bookSection('work-customer-products', 'products', [
    ['GET', `${BOOK}/products`, 200, { items: [
      F.product(41, { model: { ...F.product(41).model, name: '厨下式反渗透净水器 RO-600G 尊享版（带前置过滤）', code: 'RO-600G-PRO-2026-LIMITED' },
        serial: 'SN2026120500000000000000001', address: `${LONG}3栋1单元502室` }),
      F.product(42, { in_warranty: false, warranty_end: '2025-01-01', warranty_days_left: 0, status: 'retired', status_label: '已停用',
        next_care: { ...F.product(42).next_care, overdue: true, days_left: -3, due_on: '2026-12-02' } })], next_cursor: null }],
    ['GET', '/api/v1/product-models', 200, { items: [F.productModel(1, 'RO-600G-PRO-2026-LIMITED', '厨下式反渗透净水器 RO-600G 尊享版（带前置过滤）')], next_cursor: null }]],
  async (page) => {
    page.querySelector('.register').dispatchEvent('tap')
    await waitFor(() => page.data.modelsState !== 'loading', { what: 'the models' })
    page.instance.setData({ serial: 'SN2026120500000000000000001', regErrors: { serial: '序列号只能是不含空格的英文字母、数字和符号' },
      regError: '该序列号的产品已登记在其他用户名下，客服将核实后与您联系' })
  }),
  bookSection('work-customer-products-empty', 'products', [['GET', `${BOOK}/products`, 200, { items: [], next_cursor: null }]]),
  bookSection('work-customer-follow-ups', 'followUps', [['GET', `${BOOK}/follow-ups`, 200, { items: [FOLLOW_UPS[0], FOLLOW_UPS[1], FOLLOW_UPS[2]] }]],
    async (page) => { page.instance.setData({ fuErrors: { due_on: '跟进日期不能早于今天' } }) }),
  bookSection('work-customer-notes', 'notes', [['GET', `${BOOK}/notes`, 200, { items: [
    F.note(2, '家中有老人，上门前先电话联系女儿（139 0000 1111），周末白天一般不在家，晚上七点以后方便。'.repeat(2)),
    F.note(1, 'VIP 客户', { author: { id: 5, name: '客服小李' } })], next_cursor: 'n' }]]),
  bookSection('work-customer-timeline', 'timeline', [['GET', `${BOOK}/timeline`, 200, { items: [...F.TIMELINE,
    { kind: 'health_alert', at: '2026-12-01T18:30:00+00:00', title: '健康分降至 30（红色预警）', detail: '2 个投诉未处理；超过 120 天未联系或服务', links: { alert_id: 1 } },
    { kind: 'order_requested', at: '2026-11-30T02:00:00+00:00', title: '申请清洗服务',
      detail: '保养提醒：年度清洗（净水器 净水器 RO-600G，序列号 SN2026120500000000000000001，12月25日到期）', links: { order_id: 1 } }],
  next_cursor: 'n' }]]),
  bookSection('work-customer-tagging', 'service', [['GET', `${BOOK}/tags`, 200, F.tags(bookDetail.tags)]], async (page) => {
    page.querySelector('.add-tag').dispatchEvent('tap')
    await waitFor(() => page.data.suggested.length > 0, { what: 'the suggested tags' })
    page.instance.setData({ tagError: '每位客户最多 20 个标签' })
  }),
  bookSection('work-customer-book-errors', 'notes', [['GET', `${BOOK}/notes`, 'network']]),
)

module.exports = { scenarios }
