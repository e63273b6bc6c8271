const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./work-fixtures')

beforeEach(() => wx.setStorageSync('linli.token', 't'))

/** The lists answer by tab: `lists[status]` is [status, body] (or a function of the query). */
function routeReminders(lists = {}, counts = [200, F.CARE_COUNTS]) {
  mp.route('GET', '/api/v1/engineer/reminders/counts', ...counts)
  mp.route('GET', '/api/v1/engineer/reminders', (req) => {
    const answer = lists[req.query.get('status')] || [200, { items: [], next_cursor: null }]
    return typeof answer === 'function' ? answer(req.query) : answer
  })
}

async function open(options = {}) {
  const page = load('pages/work/reminders/index')
  page.instance.onLoad(options)
  await flush()
  return page
}

/** The text of `.name` inside the i-th item (the DOM of a list item has the page's class prefix). */
const within = (page, i, cls) => {
  const el = page.querySelectorAll('.reminder')[i].dom.querySelector(`.main--${cls}`)
  return el ? el.textContent.replace(/\s+/g, ' ').trim() : null
}
const listQueries = () => mp.requests.filter((r) => r.path === '/api/v1/engineer/reminders').map((r) => Object.fromEntries(r.query))
const outcomes = () => mp.requests.filter((r) => r.method === 'POST')

const DUE = { items: [
  F.careItem(1),
  F.careItem(2, { days_left: 0, due_on: '2026-12-05', product: { ...F.careItem(2).product, address: '' },
    customer: { id: 22, name: '张**', phone: '139****2222', phone_full: false }, route: 'estate' }),
], next_cursor: null }

test('the due list: tabs with their sizes, each item with the care, the due date, the customer to call and where', async () => {
  routeReminders({ due: [200, DUE] })
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(page.querySelectorAll('.care-tabs .tab').map((t) => t.dom.textContent.replace(/\s+/g, ''))).toEqual(
    ['2待处理', '1已逾期', '0稍后提醒', '1已预约', '3已完成'])
  expect(page.querySelector('.tab-overdue .n').dom.className).toContain('hot')
  expect(listQueries()).toEqual([{ status: 'due', limit: '20' }])

  expect(within(page, 0, 'model')).toBe('净水器 RO-600G')
  expect(within(page, 0, 'when')).toBe('还有 10 天')
  expect(within(page, 0, 'care')).toBe('滤芯更换 · 保养')
  expect(within(page, 0, 'due')).toMatch(/^12月15日 周二到期 · 净水器 · 序列号 SN00001$/)
  expect(within(page, 0, 'name')).toBe('陈阿姨')
  expect(within(page, 0, 'phone')).toBe('13800000001')
  expect(within(page, 0, 'place')).toBe('翠竹苑 · 3栋1单元502')
  expect(within(page, 1, 'when')).toBe('今天到期')
  expect(within(page, 1, 'phone')).toBe('139****2222')
  expect(within(page, 1, 'place')).toBe('翠竹苑')
  // the masked phone is not for calling; the estate's item is not my customer's book
  expect(within(page, 1, 'call')).toBeNull()
  expect(page.data.items.map((i) => [i.canCall, i.customerId])).toEqual([[true, 21], [false, 0]])

  await tap(page, '.reminder .call')
  expect(mp.called('makePhoneCall')).toEqual([expect.objectContaining({ phoneNumber: '13800000001' })])
  await tap(page, '.reminder .name')
  expect(mp.called('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/work/customer/index?id=21' })])
  await tap(page, '.reminder-2 .name')
  expect(mp.called('navigateTo')).toHaveLength(1)
})

test('?status=overdue opens that tab; tabs switch the list, and the other lists say what they hold', async () => {
  routeReminders({
    overdue: [200, { items: [F.careItem(3, { days_left: -3, due_on: '2026-12-02', overdue: true })], next_cursor: null }],
    snoozed: [200, { items: [F.careItem(4, { status: 'snoozed', status_label: '稍后提醒', snoozed_until: '2026-12-20' })], next_cursor: null }],
    booked: [200, { items: [F.careItem(5, { status: 'booked', status_label: '已预约', order_id: 88 })], next_cursor: null }],
    done: [200, { items: [F.careItem(6, { status: 'declined', status_label: '客户不需要', outcome_note: '刚换过滤芯',
      outcome_at: '2026-12-03T02:00:00+00:00' })], next_cursor: null }],
  })
  const page = await open({ status: 'overdue' })
  expect(page.querySelector('.tab-overdue').dom.className).toContain('active')
  expect(within(page, 0, 'when')).toBe('逾期 3 天')
  expect(page.querySelector('.reminder .when').dom.className).toContain('danger')

  await tap(page, '.tab-snoozed')
  expect(within(page, 0, 'snoozed-until')).toBe('12月20日 周日 再提醒')
  expect(page.querySelector('.reminder .act')).toBeTruthy()

  await tap(page, '.tab-booked')
  expect(within(page, 0, 'when')).toBe('已预约')
  expect(within(page, 0, 'order-ref')).toBe('已生成服务单 #88')
  expect(page.querySelector('.reminder .act')).toBeUndefined()
  await tap(page, '.open-orders')
  expect(mp.called('navigateTo').pop().url).toBe('/pages/work/orders/index?status=assigned')

  await tap(page, '.tab-done')
  expect(within(page, 0, 'when')).toBe('客户不需要')
  expect(within(page, 0, 'outcome-note')).toBe('备注：刚换过滤芯')
  expect(within(page, 0, 'outcome-at')).toBe('12月3日 10:00 处理')
  expect(listQueries().map((q) => q.status)).toEqual(['overdue', 'snoozed', 'booked', 'done'])

  await tap(page, '.tab-due')
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .message')).toBe('近期没有待处理的保养')
})

test('snoozed to a day picked: sent with an Idempotency-Key, said, and the list and sizes reload', async () => {
  let snoozed = false
  routeReminders({ due: () => [200, snoozed ? { items: [DUE.items[1]], next_cursor: null } : DUE] })
  mp.route('POST', '/api/v1/engineer/reminders/1/outcome', (req) => {
    snoozed = true
    return [200, F.outcomeResult(F.careItem(1, { status: 'snoozed', status_label: '稍后提醒', snoozed_until: req.data.snoozed_until }))]
  })
  const page = await open()
  await tap(page, '.reminder .act')
  expect(page.data.acting).toBe(1)
  expect(page.querySelectorAll('.choice').map((c) => c.dom.textContent)).toEqual(['代客预约', '稍后提醒', '已在别处完成', '客户不需要'])
  // nothing chosen yet
  await tap(page, '.confirm-outcome')
  expect(text(page, '.form-error')).toBe('请选择处理结果')
  expect(outcomes()).toEqual([])

  await tap(page, '.choice-snoozed')
  const { firstSnooze, lastSnooze, snoozeDate } = page.data
  const days = (a, b) => Math.round((new Date(b) - new Date(a)) / 86400000)
  expect(days(firstSnooze, lastSnooze)).toBe(89) // tomorrow to 90 days ahead
  expect(days(firstSnooze, snoozeDate)).toBe(6)
  page.querySelector('.snooze-date').dispatchEvent('change', { detail: { value: '2026-12-20' } })
  await flush()
  await tap(page, '.confirm-outcome')
  await flush()
  const [sent] = outcomes()
  expect(sent.data).toEqual({ outcome: 'snoozed', snoozed_until: '2026-12-20' })
  expect(sent.header['Idempotency-Key']).toMatch(/.{16,}/)
  expect(mp.called('showToast').pop().title).toBe('将于12月20日 周日再提醒')
  expect(page.data.acting).toBe(0)
  expect(page.data.items.map((i) => i.id)).toEqual([2])
  expect(mp.requests.filter((r) => r.path === '/api/v1/engineer/reminders/counts')).toHaveLength(2)
})

test('booked for the customer with the time they would like: the order is named', async () => {
  routeReminders({ due: [200, DUE] })
  mp.route('POST', '/api/v1/engineer/reminders/1/outcome', 200,
    F.outcomeResult(F.careItem(1, { status: 'booked', status_label: '已预约', order_id: 90 }), F.order(90, 'assigned')))
  const page = await open()
  await tap(page, '.reminder .act')
  await tap(page, '.choice-booked')
  expect(text(page, '.outcome-form .field .muted')).toBe('将为客户生成服务单并派给您，之后在“我的服务单”预约上门。')
  page.instance.onPreferredTime({ detail: { value: ' 周六上午 ' } })
  await tap(page, '.confirm-outcome')
  await flush()
  expect(outcomes().map((r) => r.data)).toEqual([{ outcome: 'booked', preferred_time: '周六上午' }])
  expect(mp.called('showToast').pop().title).toBe('已代客预约，服务单 #90')
})

test('declined asks first: cancelled sends nothing, confirmed sends the reason', async () => {
  routeReminders({ due: [200, DUE] })
  mp.route('POST', '/api/v1/engineer/reminders/1/outcome', (req) => [200, F.outcomeResult(F.careItem(1, {
    status: 'declined', status_label: '客户不需要', outcome_note: req.data.note }))])
  const page = await open()
  await tap(page, '.reminder .act')
  await tap(page, '.choice-declined')
  expect(text(page, '.outcome-form .label')).toBe('处理结果')
  page.instance.onNote({ detail: { value: '刚换过滤芯' } })
  mp.modalConfirm = false
  await tap(page, '.confirm-outcome')
  expect(mp.called('showModal')).toEqual([expect.objectContaining({ title: '客户这次不需要？' })])
  expect(outcomes()).toEqual([])
  mp.modalConfirm = true
  await tap(page, '.confirm-outcome')
  await flush()
  expect(outcomes().map((r) => r.data)).toEqual([{ outcome: 'declined', note: '刚换过滤芯' }])
  expect(mp.called('showToast').pop().title).toBe('已记录')
})

test('done elsewhere with a note; 取消 closes the form without sending', async () => {
  routeReminders({ due: [200, DUE] })
  mp.route('POST', '/api/v1/engineer/reminders/2/outcome', 200, F.outcomeResult(F.careItem(2, { status: 'done_elsewhere', status_label: '已在别处完成' })))
  const page = await open()
  await tap(page, '.reminder .act')
  await tap(page, '.cancel-outcome')
  expect(page.data.acting).toBe(0)
  await tap(page, '.reminder-2 .act')
  expect(page.data.acting).toBe(2)
  await tap(page, '.choice-done_elsewhere')
  page.instance.onNote({ detail: { value: '厂家上门换过了' } })
  await tap(page, '.confirm-outcome')
  await flush()
  expect(outcomes().map((r) => [r.path, r.data])).toEqual([['/api/v1/engineer/reminders/2/outcome', { outcome: 'done_elsewhere', note: '厂家上门换过了' }]])
})

test('an owner without an account cannot be booked for: no 代客预约, and said so', async () => {
  routeReminders({ due: [200, { items: [F.careItem(7, { customer: { id: null, name: '业主', phone: '13700001111', phone_full: true } })], next_cursor: null }] })
  const page = await open()
  expect(within(page, 0, 'no-account')).toBe('业主还没有账号，请电话联系')
  await tap(page, '.reminder .act')
  expect(page.querySelectorAll('.choice').map((c) => c.dom.textContent)).toEqual(['稍后提醒', '已在别处完成', '客户不需要'])
})

test('refusals: a field error under its field, a refusal in the form, a taken item reloads, no answer keeps the key', async () => {
  routeReminders({ due: [200, DUE] })
  const answers = [
    [422, apiError('validation_error', '下次提醒的日期须在明天到 90 天之内', { fields: { snoozed_until: ['下次提醒的日期须在明天到 90 天之内'] } })],
    [409, apiError('customer_not_resident', '客户尚未加入该小区，无法代为预约')],
    ['network'],
    [409, apiError('care_item_booked', '该保养提醒已预约服务单 #90，请在服务单中处理')],
  ]
  mp.route('POST', '/api/v1/engineer/reminders/1/outcome', () => answers.shift())
  const page = await open()
  await tap(page, '.reminder .act')
  await tap(page, '.choice-snoozed')
  await tap(page, '.confirm-outcome')
  expect(text(page, '.snooze-error')).toBe('下次提醒的日期须在明天到 90 天之内')

  await tap(page, '.choice-booked')
  await tap(page, '.confirm-outcome')
  expect(text(page, '.form-error')).toBe('客户尚未加入该小区，无法代为预约')

  await tap(page, '.confirm-outcome')
  expect(text(page, '.form-error')).toBe('网络连接失败，请检查网络后重试')
  const kept = page.data.key
  expect(kept).not.toBe('')
  await tap(page, '.confirm-outcome')
  await flush()
  const keys = outcomes().map((r) => r.header['Idempotency-Key'])
  expect(keys[3]).toBe(kept)
  expect(new Set(keys).size).toBe(3) // a new key after each answer, the same one for the retry
  expect(mp.called('showToast').pop().title).toBe('该保养提醒已预约服务单 #90，请在服务单中处理')
  expect(page.data.acting).toBe(0)
  expect(listQueries()).toHaveLength(2)
})

test('more at the bottom; a failed load shows the error with a retry; failed sizes leave dashes', async () => {
  let calls = 0
  routeReminders({ due: (q) => {
    calls += 1
    if (calls === 1) return [500, apiError('server_error', '服务器开小差了')]
    return [200, q.get('cursor') ? { items: [F.careItem(9)], next_cursor: null } : { items: [F.careItem(1)], next_cursor: 'c2' }]
  } }, ['network'])
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('保养待办加载失败，请检查网络')
  await tap(page, '.load-error >>> .action')
  expect(page.data.items.map((i) => i.id)).toEqual([1])
  expect(text(page, '.more')).toBe('上拉加载更多')
  expect(text(page, '.tab-due .n')).toBe('—')
  page.instance.onReachBottom()
  await flush()
  expect(page.data.items.map((i) => i.id)).toEqual([1, 9])
  expect(listQueries().pop()).toEqual({ status: 'due', limit: '20', cursor: 'c2' })
  expect(text(page, '.more')).toBe('没有更多了')
})
