const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./work-fixtures')

beforeEach(() => wx.setStorageSync('linli.token', 't'))

function routeAlerts(lists = {}) {
  mp.route('GET', '/api/v1/engineer/health-alerts', (req) => lists[req.query.get('status')] || [200, { items: [], next_cursor: null }])
}

async function open(options = {}) {
  const page = load('pages/work/alerts/index')
  page.instance.onLoad(options)
  await flush()
  return page
}

test('open alerts: who, the score and why; handled with a note, sent once with an Idempotency-Key', async () => {
  routeAlerts({ open: [200, { items: [F.healthAlert(4), F.healthAlert(3, { resident_id: 22, resident_name: '张先生', estate: null })], next_cursor: null }] })
  mp.route('POST', '/api/v1/engineer/health-alerts/4/handle', (req) => [200, F.healthAlert(4, { status: 'handled', handled_note: req.data.note,
    handled_by_id: 9, handled_by_name: '王建国', handled_at: '2026-12-05T02:00:00+00:00' })])
  const page = await open()
  expect(Object.fromEntries(mp.requests[0].query)).toEqual({ status: 'open', limit: '20' })
  expect(text(page, '.alert .customer')).toBe('陈阿姨›')
  expect(text(page, '.alert .score')).toBe('红色 30')
  expect(text(page, '.alert .estate')).toBe('翠竹苑 · 12月5日 02:30 预警')
  expect(text(page, '.alert .reasons')).toBe('2 个投诉未处理')
  expect(page.querySelectorAll('.alert .estate')[1].dom.textContent).toBe('12月5日 02:30 预警')

  await tap(page, '.alert .handle')
  expect(text(page, '.handle-error')).toBe('请写下处理说明，如：已电话回访')
  expect(mp.requests.filter((r) => r.method === 'POST')).toEqual([])
  page.instance.onNote({ currentTarget: { dataset: { id: 4 } }, detail: { value: ' 已电话联系，约周六上门 ' } })
  expect(page.querySelector('.handle-error')).toBeUndefined()
  await tap(page, '.alert .handle')
  const [sent] = mp.requests.filter((r) => r.method === 'POST')
  expect(sent.data).toEqual({ note: '已电话联系，约周六上门' })
  expect(sent.header['Idempotency-Key']).toBeTruthy()
  expect(page.data.items.map((a) => a.id)).toEqual([3])
  expect(mp.called('showToast').pop().title).toBe('已处理')

  await tap(page, '.alert .customer')
  expect(mp.called('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/work/customer/index?id=22' })])
})

test('an alert someone else handled meanwhile: said, and the list reloads', async () => {
  routeAlerts({ open: [200, { items: [F.healthAlert(4)], next_cursor: null }] })
  mp.route('POST', '/api/v1/engineer/health-alerts/4/handle', 409, apiError('alert_already_handled', '该预警已处理'))
  const page = await open()
  page.instance.onNote({ currentTarget: { dataset: { id: 4 } }, detail: { value: '已回访' } })
  routeAlerts({ open: [200, { items: [], next_cursor: null }] })
  await tap(page, '.alert .handle')
  await flush()
  expect(mp.called('showToast').pop().title).toBe('该预警已处理')
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .message')).toBe('没有待处理的健康预警')
})

test('handled alerts show who handled them, when and what was done', async () => {
  routeAlerts({ handled: [200, { items: [F.healthAlert(2, { status: 'handled', handled_note: '已上门处理投诉',
    handled_by_id: 9, handled_by_name: '王建国', handled_at: '2026-12-05T02:00:00+00:00' })], next_cursor: null }] })
  const page = await open({ status: 'handled' })
  expect(text(page, '.handled-note')).toBe('已上门处理投诉')
  expect(text(page, '.handled-by')).toBe('王建国 12月5日 10:00 处理')
  expect(page.querySelector('.alert .handle')).toBeUndefined()
  await tap(page, '.tab-open')
  expect(text(page, '.empty >>> .message')).toBe('没有待处理的健康预警')
})

test('a failed load shows the error with a retry', async () => {
  mp.route('GET', '/api/v1/engineer/health-alerts', 'network')
  const page = await open()
  expect(text(page, '.load-error >>> .message')).toBe('预警加载失败，请检查网络')
  routeAlerts({ open: [200, { items: [F.healthAlert(4)], next_cursor: null }] })
  await tap(page, '.load-error >>> .action')
  expect(page.data.items).toHaveLength(1)
})
