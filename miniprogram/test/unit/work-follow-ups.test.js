const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./work-fixtures')

beforeEach(() => wx.setStorageSync('linli.token', 't'))

function routeFollowUps(lists = {}) {
  mp.route('GET', '/api/v1/engineer/follow-ups', (req) => {
    const answer = lists[req.query.get('status')] || [200, { items: [], next_cursor: null }]
    return typeof answer === 'function' ? answer(req.query) : answer
  })
}

async function open(options = {}) {
  const page = load('pages/work/follow-ups/index')
  page.instance.onLoad(options)
  await flush()
  return page
}

const queries = () => mp.requests.filter((r) => r.path === '/api/v1/engineer/follow-ups').map((r) => Object.fromEntries(r.query))
const OPEN = { items: [
  F.followUp(3, { due_on: '2026-11-30', overdue: true, text: '确认投诉处理结果' }),
  F.followUp(1, { resident_id: 22, resident_name: '张先生', author: { id: 9, name: '李师傅' } }),
], next_cursor: null }

test('open follow-ups, the overdue first (as the server sorts them), each with the customer, what and who wrote it', async () => {
  routeFollowUps({ open: [200, OPEN] })
  const page = await open()
  expect(queries()).toEqual([{ status: 'open', limit: '20' }])
  expect(page.data.items.map((f) => [f.id, f.overdue])).toEqual([[3, true], [1, false]])
  expect(text(page, '.follow-up .due')).toBe('11月30日 周一')
  expect(page.querySelector('.follow-up .due').dom.className).toContain('late')
  expect(text(page, '.follow-up .overdue')).toBe('已逾期')
  expect(text(page, '.follow-up .text')).toBe('确认投诉处理结果')
  expect(text(page, '.follow-up .customer')).toBe('陈阿姨›')
  expect(text(page, '.follow-up .author')).toBe('王建国 记录')
  expect(page.querySelectorAll('.follow-up .done')).toHaveLength(2)
  await tap(page, '.follow-up .customer')
  expect(mp.called('navigateTo')).toEqual([expect.objectContaining({ url: '/pages/work/customer/index?id=21' })])
})

test('完成 marks one done with an Idempotency-Key and it leaves the list; the last one leaves it empty', async () => {
  routeFollowUps({ open: [200, { items: [OPEN.items[0]], next_cursor: null }] })
  let calls = 0
  mp.route('POST', '/api/v1/engineer/follow-ups/3/done', () => (calls++ === 0 ? ['network']
    : [200, F.followUp(3, { done: true, done_at: '2026-12-05T02:00:00+00:00', done_by_id: 9 })]))
  const page = await open()
  await tap(page, '.follow-up .done')
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  expect(page.data.items).toHaveLength(1)
  await tap(page, '.follow-up .done')
  const keys = mp.requests.filter((r) => r.method === 'POST').map((r) => r.header['Idempotency-Key'])
  expect(keys).toHaveLength(2)
  expect(keys[1]).toBe(keys[0]) // the retry after no answer is the same write
  expect(page.data.state).toBe('empty')
  expect(text(page, '.empty >>> .message')).toBe('没有待跟进的事项')
  expect(mp.called('showToast').pop().title).toBe('已完成')
})

test('the tabs: overdue and done (with when it was done, no button); ?status= opens one', async () => {
  routeFollowUps({
    overdue: [200, { items: [OPEN.items[0]], next_cursor: null }],
    done: [200, { items: [F.followUp(5, { done: true, done_at: '2026-12-04T06:00:00+00:00' })], next_cursor: null }],
  })
  const page = await open({ status: 'overdue' })
  expect(page.querySelector('.tab-overdue').dom.className).toContain('active')
  expect(page.data.items.map((f) => f.id)).toEqual([3])
  await tap(page, '.tab-done')
  expect(text(page, '.follow-up .done-badge')).toBe('已完成')
  expect(text(page, '.follow-up .author')).toBe('王建国 记录 · 12月4日 14:00 完成')
  expect(page.querySelector('.follow-up .done')).toBeUndefined()
  await tap(page, '.tab-open')
  expect(text(page, '.empty >>> .message')).toBe('没有待跟进的事项')
  expect(queries().map((q) => q.status)).toEqual(['overdue', 'done', 'open'])
})

test('more at the bottom; a failed load shows the error with a retry', async () => {
  let calls = 0
  routeFollowUps({ open: (q) => {
    calls += 1
    if (calls === 1) return ['network']
    return [200, q.get('cursor') ? { items: [F.followUp(8)], next_cursor: null } : { items: [F.followUp(1)], next_cursor: 'f2' }]
  } })
  const page = await open()
  expect(text(page, '.load-error >>> .message')).toBe('跟进加载失败，请检查网络')
  await tap(page, '.load-error >>> .action')
  page.instance.onReachBottom()
  await flush()
  expect(page.data.items.map((f) => f.id)).toEqual([1, 8])
  expect(queries().pop()).toEqual({ status: 'open', limit: '20', cursor: 'f2' })
})

test('a follow-up that is no longer mine says why', async () => {
  routeFollowUps({ open: [200, { items: [OPEN.items[1]], next_cursor: null }] })
  mp.route('POST', '/api/v1/engineer/follow-ups/1/done', 404, apiError('follow_up_not_found', '跟进事项不存在'))
  const page = await open()
  await tap(page, '.follow-up .done')
  expect(mp.called('showToast').pop().title).toBe('跟进事项不存在')
  expect(page.data.keys[1]).toBe('')
})
