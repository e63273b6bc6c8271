const { load, flush, text, tap, apiError } = require('../helpers')
const A = require('./activation-fixtures')

A.fixClock()

const routeLogin = () => mp.route('POST', '/api/v1/auth/wechat-login', 200, { token: 'tok' })
beforeEach(routeLogin)

/** GET /api/v1/activities/1 answers `answer` (a function of the call count, or a body). */
function routeActivity(answer) {
  let calls = 0
  mp.route('GET', '/api/v1/activities/1', () => {
    calls += 1
    const body = typeof answer === 'function' ? answer(calls) : answer
    return Array.isArray(body) ? body : [200, body]
  })
}

async function open(options = { id: '1', estate_id: '12' }) {
  const page = load('pages/activity/index')
  page.instance.onLoad(options)
  await flush(10)
  return page
}

const posts = (path) => mp.requests.filter((r) => r.method === 'POST' && r.path === path)

test('an activity: photos, time, place, organiser, seats, deadline and rewards; 报名 while seats are left', async () => {
  routeActivity(A.activity(1, { photos: ['/api/v1/uploads/a.jpg', '/api/v1/uploads/b.jpg'],
    coupon: { template_id: 4, name: '清洗立减券', face: '满100减20' } }))
  const page = await open()
  expect(page.data.state).toBe('ready')
  expect(text(page, '.title')).toBe('社区义诊')
  expect(text(page, '.state-badge')).toBe('未开始')
  expect(text(page, '.time .value')).toBe('12月10日 14:00–16:00')
  expect(text(page, '.place .value')).toBe('会所二楼')
  expect(text(page, '.organizer .value')).toBe('邻里社区（平台）')
  expect(text(page, '.seats .value')).toBe('12/30 人 · 剩 18 个名额')
  expect(text(page, '.deadline .value')).toBe('12月10日 14:00 截止报名')
  expect(text(page, '.rewards .value')).toBe('签到后获得 20 积分，优惠券「清洗立减券」满100减20')
  expect(text(page, '.description')).toBe('三甲医院医生到小区，免费量血压、测血糖。')
  expect(page.data.activity.photos).toEqual(['http://127.0.0.1:5000/api/v1/uploads/a.jpg', 'http://127.0.0.1:5000/api/v1/uploads/b.jpg'])
  page.querySelectorAll('.photo')[1].dispatchEvent('tap')
  await flush()
  expect(mp.called('previewImage')[0].current).toBe('http://127.0.0.1:5000/api/v1/uploads/b.jpg')
  expect(text(page, '.signup')).toBe('报名')
  expect(page.querySelector('.full-hint')).toBeUndefined()
  expect(page.querySelector('.attendee-qr')).toBeUndefined()
})

test('报名 is confirmed: said so, and my attendee code shows as a QR code and as text', async () => {
  routeActivity(A.activity(1))
  const mine = A.signup(1)
  mp.route('POST', '/api/v1/activities/1/signups', 200, { signup: mine, created: true,
    activity: A.activity(1, { confirmed: 13, seats_left: 17, my: mine }) })
  const page = await open()
  await tap(page, '.signup')
  const sent = posts('/api/v1/activities/1/signups')
  expect(sent).toHaveLength(1)
  expect(sent[0].data).toEqual({ estate_id: 12 })
  expect(sent[0].header['Idempotency-Key']).toBeTruthy()
  expect(mp.called('showToast').pop().title).toBe('报名成功')
  expect(text(page, '.my-status')).toBe('已报名')
  expect(page.querySelector('.attendee-qr').instance.data.rows).toHaveLength(21)
  expect(page.querySelector('.attendee-qr').instance.properties.text).toBe('UMCDAJ57')
  expect(text(page, '.attendee-code')).toBe('UMCD AJ57')
  expect(text(page, '.seats .value')).toBe('13/30 人 · 剩 17 个名额')
  expect(text(page, '.scan')).toBe('扫码签到')
  expect(text(page, '.cancel')).toBe('取消报名')
  expect(page.querySelector('.signup')).toBeUndefined()
  expect(page.data.key).toBe('')
})

test('a full activity: 候补报名 says how the waitlist works; the answer gives my place in the queue', async () => {
  routeActivity(A.activity(1, { confirmed: 30, seats_left: 0, waitlisted: 2 }))
  const mine = A.waitlisted(1, 3)
  mp.route('POST', '/api/v1/activities/1/signups', 200, { signup: mine, created: true,
    activity: A.activity(1, { confirmed: 30, seats_left: 0, waitlisted: 3, my: mine }) })
  const page = await open({ id: '1' })
  expect(text(page, '.seats .value')).toBe('30/30 人 · 名额已满，2 人候补')
  expect(text(page, '.full-hint')).toBe('名额已满，报名后进入候补，有人取消时按顺序自动补上。')
  expect(text(page, '.signup')).toBe('候补报名')
  await tap(page, '.signup')
  expect(posts('/api/v1/activities/1/signups')[0].data).toEqual({})
  const modal = mp.called('showModal').pop()
  expect(modal.title).toBe('已加入候补')
  expect(modal.content).toBe('名额已满，您排在候补第 3 位。有人取消时会按顺序自动为您补上，并通知您。')
  expect(text(page, '.my-status')).toBe('候补中')
  expect(text(page, '.position')).toBe('候补第 3 位')
  expect(page.querySelector('.attendee-qr')).toBeUndefined()
  expect(text(page, '.cancel')).toBe('取消候补')
})

test('a retry after a lost answer sends the same key; a refusal is told and the activity shown as it is now', async () => {
  routeActivity((n) => (n === 1 ? A.activity(1) : A.activity(1, { signup_open: false })))
  let answer = ['network']
  mp.route('POST', '/api/v1/activities/1/signups', () => answer)
  const page = await open()
  await tap(page, '.signup')
  expect(mp.called('showToast').pop().title).toBe('网络连接失败，请检查网络后重试')
  answer = [409, apiError('signup_closed', '报名已截止')]
  await tap(page, '.signup')
  const [first, second] = posts('/api/v1/activities/1/signups')
  expect(second.header['Idempotency-Key']).toBe(first.header['Idempotency-Key'])
  expect(mp.called('showToast').pop().title).toBe('报名已截止')
  await flush()
  expect(text(page, '.closed')).toBe('报名已截止')
  expect(page.data.key).toBe('')
})

test('取消报名 asks first; keeping it sends nothing, confirming frees the seat and shows the activity again', async () => {
  routeActivity((n) => (n === 1 ? A.activity(1, { my: A.signup(1) }) : A.activity(1, { my: A.signup(1, { status: 'cancelled', status_label: '已取消', code: null }) })))
  mp.route('DELETE', '/api/v1/activities/1/signups/me', 200, A.signup(1, { status: 'cancelled', status_label: '已取消', code: null }))
  const page = await open()
  mp.modalConfirm = false
  await tap(page, '.cancel')
  expect(mp.called('showModal')[0].title).toBe('取消报名')
  expect(mp.called('showModal')[0].content).toBe('取消后名额会让给候补的邻居，再报名需要重新排队。')
  expect(mp.requests.some((r) => r.method === 'DELETE')).toBe(false)
  mp.modalConfirm = true
  await tap(page, '.cancel')
  await flush()
  expect(mp.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1)
  expect(mp.called('showToast').pop().title).toBe('已取消报名')
  expect(page.data.my).toBeNull()
  expect(text(page, '.signup')).toBe('报名')
})

test('扫码签到 sends the scanned activity code as the token, once, and says what taking part paid', async () => {
  routeActivity((n) => A.activity(1, { state: 'ongoing', state_label: '进行中',
    my: A.signup(1, n === 1 ? {} : { checked_in_at: '2026-12-10T06:05:00+00:00', rewarded_at: '2026-12-10T06:05:00+00:00' }) }))
  mp.route('POST', '/api/v1/activities/1/check-ins', 200, { first: true,
    attendee: { ...A.signup(1, { code: null, checked_in_at: '2026-12-10T06:05:00+00:00' }), user_id: 5, name: '陈小明', estate_name: '翠竹苑' },
    reward: { points: 20, coupon: { id: 9, code: 'ABCD2345EFGH', name: '清洗立减券', face: '满100减20', expires_on: '2027-01-09' } } })
  mp.scanResult = '  q3Xr-9kLm_2PzT7w '
  const page = await open()
  await tap(page, '.scan')
  await flush()
  expect(mp.called('scanCode')[0]).toMatchObject({ onlyFromCamera: true, scanType: ['qrCode'] })
  const sent = posts('/api/v1/activities/1/check-ins')
  expect(sent.map((r) => r.data)).toEqual([{ token: 'q3Xr-9kLm_2PzT7w' }])
  expect(sent[0].header['Idempotency-Key']).toBeTruthy()
  const modal = mp.called('showModal').pop()
  expect(modal.title).toBe('签到成功')
  expect(modal.content).toBe('参加奖励：20 积分，优惠券「清洗立减券」。')
  expect(text(page, '.my-status')).toBe('已签到')
  expect(text(page, '.checked-in')).toBe('12月10日 14:05 已签到，欢迎参加！')
  expect(page.querySelector('.attendee-qr')).toBeUndefined()
  expect(page.querySelector('.cancel')).toBeUndefined()
})

test('a second check-in answers the first; a scan that is no activity code, or cancelled, sends nothing; closed is told', async () => {
  routeActivity(A.activity(1, { my: A.signup(1) }))
  let answer = [200, { first: false, attendee: { ...A.signup(1, { code: null, checked_in_at: '2026-12-10T06:05:00+00:00' }), user_id: 5,
    name: '陈小明', estate_name: '翠竹苑' }, reward: { points: 0, coupon: null } }]
  mp.route('POST', '/api/v1/activities/1/check-ins', () => answer)
  const page = await open()
  mp.scanResult = 'https://example.com/这不是签到码'
  await tap(page, '.scan')
  expect(mp.called('showToast').pop().title).toBe('这不是活动签到码，请扫描现场的活动二维码')
  mp.scanResult = null
  await tap(page, '.scan')
  expect(posts('/api/v1/activities/1/check-ins')).toHaveLength(0)
  mp.scanResult = 'q3Xr9kLm2PzT7wAb'
  await tap(page, '.scan')
  await flush()
  expect(mp.called('showModal').pop()).toMatchObject({ title: '您已签到过', content: '签到时间：12月10日 14:05。欢迎参加活动！' })
  answer = [409, apiError('checkin_closed', '签到时间为 2026-12-10 13:00 至 2026-12-10 16:00',
    { opens_at: '2026-12-10T05:00:00+00:00', closes_at: '2026-12-10T08:00:00+00:00' })]
  await tap(page, '.scan')
  expect(mp.called('showToast').pop().title).toBe('签到时间为 2026-12-10 13:00 至 2026-12-10 16:00')
  expect(page.data.busy).toBe('')
})

test('a cancelled activity says why and offers nothing to do', async () => {
  routeActivity(A.activity(1, { status: 'cancelled', state: 'cancelled', state_label: '已取消', signup_open: false, cancelled_reason: '暴雨预警，改期另行通知' }))
  const page = await open()
  expect(text(page, '.cancelled-reason')).toBe('活动已取消：暴雨预警，改期另行通知')
  expect(text(page, '.closed')).toBe('活动已取消')
  expect(page.querySelector('.signup')).toBeUndefined()
})

test('开启活动提醒 asks for the activity notices', async () => {
  routeActivity(A.activity(1, { my: A.signup(1) }))
  mp.route('GET', '/api/v1/subscriptions/templates', 200, { templates: { activity: 'tmpl_activity_notice', order: 'tmpl_order_status' } })
  mp.route('POST', '/api/v1/me/subscriptions', 200, { quotas: { tmpl_activity_notice: 1 } })
  mp.subscribeAnswers = { tmpl_activity_notice: 'accept' }
  const page = await open()
  await tap(page, '.subscribe')
  await flush()
  expect(mp.called('requestSubscribeMessage')[0].tmplIds).toEqual(['tmpl_activity_notice'])
  expect(mp.called('showToast').pop().title).toBe('已开启活动提醒')
  expect(page.querySelector('.subscribe')).toBeUndefined()
})

test('an activity gone is said so; 重试 loads again', async () => {
  routeActivity((n) => (n === 1 ? [404, apiError('activity_not_found', '活动不存在')] : A.activity(1)))
  const page = await open()
  expect(page.data.state).toBe('error')
  expect(text(page, '.load-error >>> .message')).toBe('活动不存在或已下线')
  await tap(page, '.load-error >>> .action')
  await flush()
  expect(page.data.state).toBe('ready')
})
