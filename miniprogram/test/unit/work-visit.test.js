const { load, flush, text, tap, apiError } = require('../helpers')
const F = require('./work-fixtures')

const T0 = Date.parse('2026-12-04T10:00:00+08:00')

beforeEach(() => {
  wx.setStorageSync('linli.token', 't')
  jest.spyOn(Date, 'now').mockReturnValue(T0)
})
afterEach(() => jest.restoreAllMocks())

/** My visits (engineer 3) and another engineer's, by estate. */
function routeVisits(byEstate = { 12: [F.announcement(5, 3), F.announcement(6, 8)], 13: [] }) {
  mp.route('GET', /^\/api\/v1\/estates\/\d+\/visits$/, (req) => [200, { items: byEstate[req.path.split('/')[4]] || [] }])
}

async function open(estates = [F.CUIZHU, F.BISHUI]) {
  mp.route('GET', '/api/v1/engineer/me', 200, F.engineerMe(estates))
  const page = load('pages/work/visit/index')
  page.instance.onLoad()
  await flush()
  return page
}

const slotTexts = (page, selector) => page.querySelectorAll(selector).map((s) => s.dom.textContent.trim())
const posted = () => mp.requests.filter((r) => r.method === 'POST')

test('the form: my estate, tomorrow, the usual slots ticked; my upcoming visits there with what is booked', async () => {
  routeVisits()
  wx.setStorageSync('linli.work.estate', 12)
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.estate .picker-value')).toBe('翠竹苑 ▾')
  expect(page.data.date).toBe('2026-12-05')
  expect([page.data.firstDate, page.data.lastDate]).toEqual(['2026-12-04', '2027-02-02'])
  expect(slotTexts(page, '.slot.on')).toEqual(['09:00-10:00', '10:00-11:00', '14:00-15:00', '15:00-16:00'])
  expect(slotTexts(page, '.slot')).toHaveLength(11)
  // only my announcements, with their slots booked or free (Beijing time)
  expect(page.querySelectorAll('.announcement')).toHaveLength(1)
  expect(text(page, '.announcement-day')).toBe('12月5日 周六')
  expect(slotTexts(page, '.booked-slot')).toEqual(['09:00-10:00 已约', '10:00-11:00 可约'])
  expect(text(page, '.upcoming .card-title')).toBe('我在翠竹苑的上门安排')
})

test('publishing: what the server notified, once per announcement (Idempotency-Key), then the list again', async () => {
  routeVisits()
  mp.route('POST', '/api/v1/engineer/visits', (req) => [201, { id: 9, estate_id: req.data.estate_id, day: req.data.date, notified: 120, wechat: 30 }])
  const page = await open([F.CUIZHU])
  expect(page.querySelector('.estate')).toBeUndefined() // one estate: no picker
  expect(text(page, '.estate-only')).toBe('翠竹苑')
  page.querySelector('.date').dispatchEvent('change', { detail: { value: '2026-12-06' } })
  page.querySelectorAll('.slot')[1].dispatchEvent('tap') // untick 09:00-10:00
  page.querySelectorAll('.slot')[0].dispatchEvent('tap') // tick 08:00-09:00
  await flush()
  page.instance.onNote({ detail: { value: ' 顺路免费检测净水器 ' } })
  await tap(page, '.submit')
  const [sent] = posted()
  expect(sent.data).toEqual({ estate_id: 12, date: '2026-12-06', slots: ['08:00-09:00', '10:00-11:00', '14:00-15:00', '15:00-16:00'], note: '顺路免费检测净水器' })
  expect(sent.header['Idempotency-Key']).toMatch(/^[a-z0-9]+-[a-z0-9]+$/)
  expect(page.data.key).not.toBe(sent.header['Idempotency-Key']) // the next announcement gets its own
  expect(text(page, '.result-title')).toBe('已发布12月6日 周日的上门安排')
  expect(text(page, '.result-detail')).toBe('翠竹苑 · 4 个可预约时段')
  expect(text(page, '.result-notified')).toBe('已通知 120 户住户（其中 30 户收到微信服务通知）')
  expect(page.data.note).toBe('')
  expect(mp.requests.filter((r) => r.path === '/api/v1/estates/12/visits')).toHaveLength(2)
  expect(wx.getStorageSync('linli.work.estate')).toBe(12)
  await tap(page, '.dismiss')
  expect(page.querySelector('.result')).toBeUndefined()
})

test('a retry after a lost answer sends the same key; a refusal names the field', async () => {
  routeVisits()
  mp.route('POST', '/api/v1/engineer/visits', 'network')
  const page = await open()
  await tap(page, '.submit')
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  mp.route('POST', '/api/v1/engineer/visits', 422, apiError('validation_error', '时段须在将来', { fields: { slots: ['时段须在将来'] } }))
  await tap(page, '.submit')
  expect(text(page, '.slots-error')).toBe('时段须在将来')
  const keys = posted().map((r) => r.header['Idempotency-Key'])
  expect(keys[0]).toBe(keys[1])
  mp.route('POST', '/api/v1/engineer/visits', 409, apiError('already_announced', '您已发布过这一天在该小区的上门安排'))
  await tap(page, '.submit')
  expect(mp.called('showToast').pop().title).toBe('您已发布过这一天在该小区的上门安排')
  expect(page.querySelector('.result')).toBeUndefined()
})

test('my own slot is added in order; a backwards one or none at all is refused before sending', async () => {
  routeVisits()
  const page = await open()
  page.querySelector('.custom-start').dispatchEvent('change', { detail: { value: '12:00' } })
  page.querySelector('.custom-end').dispatchEvent('change', { detail: { value: '12:45' } })
  await tap(page, '.add-slot')
  expect(slotTexts(page, '.slot.on')).toEqual(['09:00-10:00', '10:00-11:00', '12:00-12:45', '14:00-15:00', '15:00-16:00'])
  page.querySelector('.custom-end').dispatchEvent('change', { detail: { value: '11:00' } })
  await tap(page, '.add-slot')
  expect(text(page, '.slots-error')).toBe('结束时间须晚于开始时间')
  for (const slot of page.querySelectorAll('.slot.on')) slot.dispatchEvent('tap')
  await flush()
  expect(page.querySelector('.slots-error')).toBeUndefined()
  await tap(page, '.submit')
  expect(text(page, '.slots-error')).toBe('请选择 1–16 个时段')
  expect(posted()).toEqual([])
})

test('another estate: remembered, and its visits listed', async () => {
  routeVisits({ 12: [], 13: [F.announcement(7, 3, '2026-12-08', { note: '检测热水器' })] })
  const page = await open()
  expect(text(page, '.no-upcoming')).toBe('还没有即将进行的上门安排')
  page.querySelector('.estate').dispatchEvent('change', { detail: { value: 1 } })
  await flush()
  expect(wx.getStorageSync('linli.work.estate')).toBe(13)
  expect(text(page, '.upcoming .card-title')).toBe('我在碧水湾的上门安排')
  expect(text(page, '.announcement-note')).toBe('检测热水器')
  expect(text(page, '.announcement-day')).toBe('12月8日 周二')
})

test('no estate, a failed profile (retry), a failed upcoming list (retry)', async () => {
  const none = await open([])
  expect(text(none, '.no-estates >>> .message')).toBe('您还没有负责的小区')

  mp.route('GET', '/api/v1/engineer/me', 'network')
  const page = load('pages/work/visit/index')
  page.instance.onLoad()
  await flush()
  expect(text(page, '.load-error >>> .message')).toBe('加载失败，请检查网络')
  let calls = 0
  mp.route('GET', /^\/api\/v1\/estates\/\d+\/visits$/, () => (calls++ === 0 ? ['network'] : [200, { items: [F.announcement(5, 3)] }]))
  mp.route('GET', '/api/v1/engineer/me', 200, F.engineerMe())
  await tap(page, '.load-error >>> .action')
  expect(text(page, '.upcoming-error')).toBe('加载失败，点此重试')
  await tap(page, '.upcoming-error')
  expect(page.querySelectorAll('.announcement')).toHaveLength(1)
})
